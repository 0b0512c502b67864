import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BINARY, type BinaryServer, exportNdjson, requireBinary, startBinary, tempDir } from '../helpers/binary'
import { TestRedis } from '../helpers/redis-server'
import { GroupClient, Ledger } from './group-client'
import { MODES } from './modes'

let dir: string
const servers: BinaryServer[] = []
const redises: TestRedis[] = []

/** The newest modification time under a directory. */
function newest(path: string): number {
  let max = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name)
    max = Math.max(max, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs)
  }
  return max
}

beforeAll(() => {
  // `npm test` builds first; a binary older than the sources would test old code, so rebuild it then.
  const root = resolve(import.meta.dir, '../..')
  let isStale = true
  try {
    isStale = statSync(BINARY).mtimeMs < newest(join(root, 'src'))
  } catch {}
  if (isStale) Bun.spawnSync(['npm', 'run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  requireBinary()
  dir = tempDir('ringcast-groups-')
})
afterAll(async () => {
  for (const s of servers) await s.dispose()
  for (const r of redises) await r.stop()
  rmSync(dir, { recursive: true, force: true })
})

const TITLES = {
  sqlite: 'kill -9 in the middle of a busy group, then a restart: no acked event comes back, no unacked one is lost, running leases are honoured',
  redis: 'a node killed with kill -9 mid-work: another node honours its running leases, then redelivers them; nothing acked comes back, nothing unacked is lost',
}

for (const mode of MODES) test(TITLES[mode], async () => {
  const dataFile = join(dir, `groups-${mode}.db`)
  // On SQLite the same server restarts on its file; on Redis a second node is already running.
  const redis = mode === 'redis' ? await TestRedis.start({ appendfsync: 'everysec' }) : undefined
  if (redis) redises.push(redis)
  const args = redis ? ['--redis', redis.url] : []
  const first = await startBinary({ dataFile, args })
  servers.push(first)
  const other = redis && (await startBinary({ args }))
  if (other) servers.push(other)
  let g = new GroupClient(first.url, 'crash')
  expect((await g.put({ streams: ['work.*'], start: 'earliest', ackTimeout: 3 })).status).toBe(201)
  const publish = async (url: string, stream: string, n: number) => {
    const body = Array.from({ length: n }, (_, i) => ({ type: 'job', data: { i } }))
    const res = await fetch(`${url}/v1/streams/${stream}/events`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } })
    return ((await res.json()) as { id: number }[]).map((e) => e.id)
  }
  for (const s of ['work.a', 'work.b', 'work.c']) await publish(first.url, s, 200)

  // A consumer that claims and never acks: its leases must survive the crash until their deadline.
  const hog = await g.claim('hog', 10)
  const hogIds = new Set(hog.map((d) => d.event.id))
  const hogDeadline = Math.max(...hog.map((d) => Date.parse(d.deadline)))

  const ackedBefore = new Set<number>()
  const uncertain = new Set<number>() // acks sent whose answer the crash swallowed
  let isDead = false
  const worker = async (name: string) => {
    while (!isDead) {
      let got
      try {
        got = await g.claim(name, 5, 0.5)
      } catch {
        return
      }
      const ids = got.map((d) => d.event.id)
      if (ids.length === 0) continue
      for (const id of ids) uncertain.add(id)
      try {
        const { ok } = await g.ack(name, ids)
        for (const id of ok) {
          ackedBefore.add(id)
          uncertain.delete(id)
        }
      } catch {
        return
      }
    }
  }
  const feeder = (async () => {
    for (let i = 0; !isDead && i < 50; i++) {
      try {
        await publish(first.url, `work.${'abc'[i % 3]}`, 5)
      } catch {
        return
      }
    }
  })()
  const workers = ['w1', 'w2', 'w3'].map(worker)
  const until = Date.now() + 15_000
  while (ackedBefore.size < 250) {
    if (Date.now() > until) throw new Error(`only ${ackedBefore.size} acks in 15 s`)
    await Bun.sleep(5)
  }
  first.kill('SIGKILL')
  isDead = true
  await first.exit(5000)
  expect(first.proc.signalCode).toBe('SIGKILL')
  await Promise.all([...workers, feeder])

  const second = other ?? (await startBinary({ dataFile }))
  if (!other) servers.push(second)
  g = new GroupClient(second.url, 'crash')
  const resumedAt = Date.now()
  expect(resumedAt).toBeLessThan(hogDeadline)
  const info = await g.info()
  expect(info.consumers.find((c: any) => c.consumer === 'hog')?.inFlight).toBe(hog.length)

  // Drain the group on the restarted server.
  const ledger = new Ledger()
  const after: { id: number; attempt: number; at: number }[] = []
  const drain = async (name: string) => {
    for (;;) {
      const got = await g.claim(name, 5, 0.3)
      if (got.length === 0) {
        const now = await g.info()
        if (now.lag === 0 && now.pending === 0) return
        continue
      }
      const at = Date.now()
      for (const d of got) {
        ledger.claimed(name, d.event.id)
        after.push({ id: d.event.id, attempt: d.attempt, at })
      }
      const { ok, notHeld } = await g.ack(name, got.map((d) => d.event.id))
      expect(notHeld).toEqual([])
      ledger.settled(ok)
    }
  }
  await Promise.all(['d1', 'd2', 'd3'].map(drain))

  const all = (await exportNdjson(second.url, ['work.*'])).map((e) => e.id as number)
  expect(all.length).toBeGreaterThanOrEqual(600)
  expect(ledger.violations).toEqual([])
  // No acked event comes back.
  expect(after.filter((d) => ackedBefore.has(d.id))).toEqual([])
  // Each event came out at most once after the restart.
  expect(new Set(after.map((d) => d.id)).size).toBe(after.length)
  // No unacked event is lost: every event was acked before the crash, after it, or had an ack in flight when it hit.
  const afterIds = new Set(after.map((d) => d.id))
  expect(all.filter((id) => !ackedBefore.has(id) && !afterIds.has(id) && !uncertain.has(id))).toEqual([])
  // The hog's leases were honoured until their deadline, then redelivered with attempt 2.
  const hogAfter = after.filter((d) => hogIds.has(d.id))
  expect(hogAfter.length).toBe(hogIds.size)
  for (const d of hogAfter) {
    expect(d.at).toBeGreaterThanOrEqual(hogDeadline)
    expect(d.attempt).toBe(2)
  }
  const final = await g.info()
  expect(final).toMatchObject({ lag: 0, pending: 0, inFlight: 0 })
}, 40_000)
