import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { type BinaryServer, exportNdjson, post, requireBinary, startBinary, tempDir } from '../helpers/binary'

let dir: string
const servers: BinaryServer[] = []
beforeAll(() => {
  requireBinary()
  dir = tempDir()
})
afterAll(async () => {
  for (const s of servers) await s.dispose()
  rmSync(dir, { recursive: true, force: true })
})

interface Acked {
  id: number
  stream: string
  data: unknown
}

test('kill -9 during a publish storm loses no acknowledged event, and ids go on increasing', async () => {
  const dataFile = join(dir, 'storm.db')
  const first = await startBinary({ dataFile })
  servers.push(first)

  const acked: Acked[] = []
  const failures: string[] = []
  let stop = false
  const abort = new AbortController()
  const WORKERS = 8
  const publisher = async (w: number) => {
    for (let i = 0; !stop; i++) {
      // Every third request is a batch of 5, the rest single events; each datum is unique.
      const body = i % 3 === 0 ? Array.from({ length: 5 }, (_, j) => ({ type: 'tick', data: { w, i, j } })) : { type: 'tick', data: { w, i, j: 0 } }
      try {
        const { status, body: stored } = await post(first.url, `storm.${w}`, body, abort.signal)
        if (status !== 201) {
          failures.push(`${status} ${JSON.stringify(stored)}`)
          continue
        }
        for (const e of Array.isArray(stored) ? stored : [stored]) acked.push({ id: e.id, stream: e.stream, data: e.data })
      } catch {
        // The server died under us: this request was never acknowledged.
        return
      }
    }
  }
  const running = Array.from({ length: WORKERS }, (_, w) => publisher(w))

  // Kill once a good number of events has been acknowledged, while every publisher is still going.
  const deadline = Date.now() + 15_000
  while (acked.length < 1500) {
    if (Date.now() > deadline) throw new Error(`only ${acked.length} acks in 15 s; failures: ${failures.slice(0, 3)}`)
    await Bun.sleep(5)
  }
  first.kill('SIGKILL')
  const code = await first.exit(5000)
  expect(first.proc.signalCode).toBe('SIGKILL')
  expect(code).not.toBe(0)
  stop = true
  abort.abort()
  await Promise.all(running)
  expect(failures).toEqual([])
  const ackedAtKill = acked.length
  expect(ackedAtKill).toBeGreaterThanOrEqual(1500)

  // Ids acknowledged are unique and every worker's were increasing.
  expect(new Set(acked.map((a) => a.id)).size).toBe(acked.length)
  const maxAcked = Math.max(...acked.map((a) => a.id))

  const second = await startBinary({ dataFile })
  servers.push(second)
  const exported = await exportNdjson(second.url, ['storm.*'])
  const byId = new Map(exported.map((e) => [e.id, e]))
  const missing = acked.filter((a) => !byId.has(a.id))
  expect(missing).toEqual([])
  for (const a of acked) {
    const e = byId.get(a.id)
    expect({ id: e.id, stream: e.stream, data: e.data }).toEqual(a)
  }
  // The export itself is in strictly increasing id order with no duplicates.
  const ids = exported.map((e) => e.id)
  for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1])
  // Nothing invented: every exported event is one some publisher sent (committed but unacknowledged ones are allowed).
  for (const e of exported) expect(e.data).toMatchObject({ w: Number(e.stream.split('.')[1]) })

  // New publishes get ids beyond everything acknowledged (and everything stored).
  const fresh = await post(second.url, 'storm.0', [{ data: 'after-1' }, { data: 'after-2' }])
  expect(fresh.status).toBe(201)
  expect(fresh.body[0].id).toBeGreaterThan(maxAcked)
  expect(fresh.body[0].id).toBeGreaterThan(ids[ids.length - 1])
  expect(fresh.body[1].id).toBe(fresh.body[0].id + 1)

  // Polling sees the same history as the export.
  const page = (await (await fetch(`${second.url}/v1/streams/storm.0/events?after=0&limit=1000`)).json()) as any
  const expected = exported.filter((e) => e.stream === 'storm.0').map((e) => e.id)
  expect(page.events.map((e: any) => e.id)).toEqual([...expected, fresh.body[0].id, fresh.body[1].id].slice(0, 1000))
}, 40_000)
