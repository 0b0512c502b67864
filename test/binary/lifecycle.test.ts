import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { type BinaryServer, exportNdjson, post, requireBinary, spawnBinary, startBinary, tempDir } from '../helpers/binary'
import { SseClient } from '../helpers/sse-client'

let dir: string
let servers: BinaryServer[] = []
const clients: SseClient[] = []
beforeAll(() => {
  requireBinary()
  dir = tempDir()
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of servers) await s.dispose()
  servers = []
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function start(dataFile: string, port = 0, args: string[] = []): Promise<BinaryServer> {
  const s = await startBinary({ dataFile, port, args })
  servers.push(s)
  return s
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
    }),
  ])
}

describe('SIGTERM', () => {
  test('drains: exits 0 within 5 s, ends SSE responses, and a client resumes on the restarted server with nothing lost', async () => {
    const dataFile = join(dir, 'drain.db')
    const first = await start(dataFile)

    const sse = SseClient.open(`${first.url}/v1/streams/drain.1/events?after=0&heartbeat=1`)
    clients.push(sse)
    expect((await sse.opened()).status).toBe(200)

    const acked: number[] = []
    let stop = false
    const loop = async (k: number) => {
      for (let n = 0; !stop; n++) {
        try {
          const { status, body } = await post(first.url, 'drain.1', { data: { k, n } })
          if (status !== 201) return
          acked.push(body.id)
        } catch {
          return
        }
      }
    }
    const loops = [loop(0), loop(1), loop(2)]

    // Wait until the subscriber is receiving live events from the running loop.
    await sse.until((f) => f.id !== undefined && Number(f.id) >= 100, 10_000)
    const { code, ms } = await first.terminate(8000)
    expect(code).toBe(0)
    expect(ms).toBeLessThan(5000)
    expect(first.stderr).toContain('draining')
    // The SSE response has ended (the client sees the end of the body, not a hang).
    await within(sse.ended, 2000, 'end of the SSE response')
    stop = true
    await Promise.all(loops)

    const before = sse.frames.filter((f) => f.id !== undefined).map((f) => Number(f.id))
    for (let i = 1; i < before.length; i++) expect(before[i]).toBe(before[i - 1] + 1)
    const lastSeen = before[before.length - 1]

    // Restart on the same data file; resume with Last-Event-ID (which wins over after=0).
    const second = await start(dataFile)
    const all = (await exportNdjson(second.url, ['drain.1'])).map((e) => e.id)
    expect(all.length).toBeGreaterThan(0)
    const missingAcks = acked.filter((id) => !all.includes(id))
    expect(missingAcks).toEqual([])
    expect(all.slice(0, before.length)).toEqual(before)

    const resumed = SseClient.open(`${second.url}/v1/streams/drain.1/events?after=0`, { 'Last-Event-ID': String(lastSeen) })
    clients.push(resumed)
    const expected = all.filter((id) => id > lastSeen)
    const last = all[all.length - 1]
    if (expected.length > 0) await resumed.until((f) => f.id === String(last), 10_000)
    // One live event after the replay proves the replay is complete and the stream continues.
    const live = await post(second.url, 'drain.1', { data: 'after restart' })
    await resumed.until((f) => f.id === String(live.body.id), 5000)
    const after = resumed.frames.filter((f) => f.id !== undefined).map((f) => Number(f.id))
    expect(after).toEqual([...expected, live.body.id])
    // Across both connections: every stored event exactly once, in order.
    expect([...before, ...after]).toEqual([...all, live.body.id])
  }, 40_000)

  test('drains within 5 s with SSE, WebSocket, long-poll and idle keep-alive connections open', async () => {
    const s = await start(join(dir, 'busy.db'))
    const sse = SseClient.open(`${s.url}/v1/events?stream=busy.*`)
    clients.push(sse)
    await sse.until((f) => f.comments.includes('ringcast'))
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/v1/ws`)
    const wsClosed = new Promise<number>((resolve) => ws.addEventListener('close', (e) => resolve(e.code)))
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true })
      ws.addEventListener('error', () => reject(new Error('ws did not open')), { once: true })
    })
    const subscribed = new Promise<void>((resolve) => ws.addEventListener('message', (m) => JSON.parse(String(m.data)).op === 'ok' && resolve()))
    ws.send(JSON.stringify({ op: 'subscribe', sub: 's', streams: ['busy.**'] }))
    await subscribed
    // A long-poll that would otherwise wait 60 s.
    const longPoll = fetch(`${s.url}/v1/streams/busy.1/events?wait=60`).then(
      async (r) => ({ status: r.status, body: await r.text() }),
      (error) => ({ status: 0, body: String(error) }),
    )
    // An idle keep-alive connection (a finished request on a reused socket).
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
    const deadline = Date.now() + 5000
    while ((((await (await fetch(`${s.url}/v1/connections`)).json()) as any).connections as unknown[]).length < 3) {
      if (Date.now() > deadline) throw new Error('the three subscriptions were never listed')
      await Bun.sleep(10)
    }

    const { code, ms } = await s.terminate(8000)
    expect(code).toBe(0)
    expect(ms).toBeLessThan(5000)
    await within(sse.ended, 2000, 'end of the SSE response')
    // The WebSocket is closed by the server ("going away" or an abnormal close once the process is gone).
    expect([1001, 1006]).toContain(await within(wsClosed, 2000, 'WebSocket close'))
    // The long-poll is answered or cut, never left hanging for its 60 s.
    const lp = await within(longPoll, 2000, 'end of the long-poll')
    if (lp.status === 200) expect(JSON.parse(lp.body)).toMatchObject({ events: [], closed: false })
    else expect(lp.status === 0 || lp.status >= 500).toBe(true)
  }, 20_000)

  test('drains within 5 s even with a subscriber that stopped reading (its buffer full)', async () => {
    const s = await start(join(dir, 'stuck.db'), 0, ['--buffer-limit', String(64 * 1024 * 1024)])
    const socket = connect(s.port, '127.0.0.1')
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('error', reject)
      })
      socket.write('GET /v1/streams/stuck.1/events?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n')
      socket.pause()
      // 10 MB: more than the kernel's socket buffers can absorb on loopback.
      const big = 'x'.repeat(64 * 1024)
      for (let i = 0; i < 160; i++) expect((await post(s.url, 'stuck.1', { data: big })).status).toBe(201)
      // The server holds bytes it cannot send to this subscriber.
      const listed = ((await (await fetch(`${s.url}/v1/connections`)).json()) as any).connections
      expect(listed).toHaveLength(1)
      expect(listed[0].bufferedBytes).toBeGreaterThan(0)
      const { code, ms } = await s.terminate(8000)
      expect(code).toBe(0)
      expect(ms).toBeLessThan(5000)
    } finally {
      socket.destroy()
    }
  }, 20_000)

  test('drains an idle server quickly with exit code 0', async () => {
    const s = await start(join(dir, 'idle.db'))
    const { code, ms } = await s.terminate(8000)
    expect(code).toBe(0)
    expect(ms).toBeLessThan(5000)
  })

  test('SIGINT drains too', async () => {
    const s = await start(join(dir, 'sigint.db'))
    s.kill('SIGINT')
    const code = await s.exit(8000)
    expect(code).toBe(0)
  })
})

describe('checkpoints', () => {
  test('run on their own thread in the binary: the data file holds the events while the server runs, readable by another process, and SIGTERM leaves no WAL', async () => {
    const dataFile = join(dir, 'checkpoints.db')
    const s = await start(dataFile)
    const events = Array.from({ length: 300 }, (_, i) => ({ data: `${i}`.padEnd(200, '.') }))
    expect((await post(s.url, 'ckpt.1', events)).status).toBe(201)
    const checkpoints = async () => Number((await (await fetch(`${s.url}/metrics`)).text()).match(/^ringcast_checkpoints_total (\d+)$/m)?.[1] ?? 0)
    const deadline = Date.now() + 5000
    while ((await checkpoints()) < 1) {
      if (Date.now() > deadline) throw new Error('no checkpoint within 5 s')
      await Bun.sleep(20)
    }
    // The lock is on a file of its own, so a backup or a reader may open the data file meanwhile.
    const reader = new Database(dataFile, { readonly: true })
    try {
      expect((reader.query("SELECT count(*) AS n FROM events WHERE stream = 'ckpt.1'").get() as { n: number }).n).toBe(300)
    } finally {
      reader.close()
    }
    expect(statSync(dataFile).size).toBeGreaterThan(60_000)
    s.kill('SIGTERM')
    expect(await s.exit(8000)).toBe(0)
    expect(existsSync(`${dataFile}-wal`)).toBe(false)
    expect(existsSync(`${dataFile}-lock`)).toBe(true)
  })
})

describe('one server per data file and per port', () => {
  test('a second server on the same data file, by its name or through a symlink, refuses to start; the first keeps serving', async () => {
    const dataFile = join(dir, 'shared.db')
    const first = await start(dataFile)
    const before = await post(first.url, 'lock.1', { data: 1 })
    expect(before.status).toBe(201)

    const link = join(dir, 'shared-link.db')
    symlinkSync(dataFile, link)
    for (const path of [dataFile, link]) {
      await using second = spawnBinary(['serve', '--port', '0', '--data', path])
      const code = await second.exit(5000)
      expect(code).not.toBe(0)
      const lines = second.stderr.split('\n').filter((l) => l !== '')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/in use/i)
      expect(lines[0]).toContain(path)
      expect(second.stderr).not.toContain('listening')
    }

    // The first server is unharmed: ready, publishing, and its history intact.
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200)
    const after = await post(first.url, 'lock.1', { data: 2 })
    expect(after.status).toBe(201)
    expect(after.body.id).toBeGreaterThan(before.body.id)
    expect((await exportNdjson(first.url, ['lock.1'])).map((e) => e.data)).toEqual([1, 2])
  }, 20_000)

  test('a second server on the same port refuses to start with one line naming the port', async () => {
    const first = await start(join(dir, 'port-a.db'))
    await using second = spawnBinary(['serve', '--port', String(first.port), '--data', join(dir, 'port-b.db')])
    const code = await second.exit(5000)
    expect(code).not.toBe(0)
    const lines = second.stderr.split('\n').filter((l) => l !== '')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('--port')
    expect(lines[0]).toContain(String(first.port))
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200)
    expect((await post(first.url, 'port.1', { data: 1 })).status).toBe(201)
  }, 20_000)
})

describe('ephemeral streams across restarts', () => {
  test('ids keep increasing, never reused, after SIGTERM and after kill -9', async () => {
    const dataFile = join(dir, 'ephemeral.db')
    let s = await start(dataFile)
    const put = await fetch(`${s.url}/v1/streams/eph.1`, { method: 'PUT', body: JSON.stringify({ ephemeral: true }), headers: { 'Content-Type': 'application/json' } })
    expect(put.status).toBe(200)
    expect(((await put.json()) as any).ephemeral).toBe(true)

    const seen: number[] = []
    const publishSome = async (n: number) => {
      const { status, body } = await post(s.url, 'eph.1', Array.from({ length: n }, (_, i) => ({ data: i })))
      expect(status).toBe(201)
      for (const e of body) seen.push(e.id)
    }
    await publishSome(5)
    // While the server runs they are retained in the ring.
    expect((await exportNdjson(s.url, ['eph.1'])).map((e) => e.id)).toEqual(seen)

    // Graceful restart.
    expect((await s.terminate(8000)).code).toBe(0)
    s = await start(dataFile)
    const info = (await (await fetch(`${s.url}/v1/streams/eph.1`)).json()) as any
    expect(info.ephemeral).toBe(true)
    // They lived only in the ring: nothing of them survives the restart.
    expect(await exportNdjson(s.url, ['eph.1'])).toEqual([])
    await publishSome(3)

    // Crash restart right after ephemeral-only publishes (the last thing stored is not an event).
    s.kill('SIGKILL')
    await s.exit(5000)
    s = await start(dataFile)
    await publishSome(2)
    // A persistent stream shares the same sequence.
    const other = await post(s.url, 'persist.1', { data: 'x' })
    expect(other.status).toBe(201)
    seen.push(other.body.id)

    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1])
    expect(new Set(seen).size).toBe(seen.length)
  }, 30_000)
})
