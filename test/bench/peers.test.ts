import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { payload } from '../../bench/gen/payload'
import { PollClient } from '../../bench/gen/poll-client'
import { SseClient } from '../../bench/gen/sse-client'
import { Sink, Subscriber } from '../../bench/gen/subscriber'
import { WsClient } from '../../bench/gen/ws-client'
import { startCluster } from '../../bench/servers/cluster'
import { startRawBun } from '../../bench/servers/raw-bun'
import { startRingcast } from '../../bench/servers/ringcast'
import { freePort, type Server, waitReady } from '../../bench/servers/server'
import { nodeTargets, targetOf } from '../../bench/targets/index'
import type { HttpRequest, Target } from '../../bench/targets/target'

// The raw-Bun peer must speak ringcast's wire wherever the generator reads it, or its figures mean nothing:
// the same generator clients run against both, and every transport must get every event once, in order, across a resume.

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

async function send(req: HttpRequest): Promise<number> {
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body })
  await res.arrayBuffer()
  return res.status
}

/** One SSE, one WebSocket and one long-poll subscriber of `stream` on `target` (cluster node `node`), counting those live. */
function clientsOf(target: Target, stream: string, sink: Sink, node = 0) {
  const state = { live: 0 }
  const clients = (['sse', 'ws', 'poll'] as const).map((kind) => {
    const sub = new Subscriber(kind, [stream], sink, node)
    const Client = kind === 'sse' ? SseClient : kind === 'ws' ? WsClient : PollClient
    return new Client(target, sub, () => state.live++)
  })
  return { clients, state, received: (c: (typeof clients)[number]) => c.sub.trackers.get(0)?.contiguous ?? 0 }
}

/** Each client got seqs 1..seq once, in the server's order, without an error. */
function expectEachOnce(clients: ReturnType<typeof clientsOf>['clients'], seq: number): void {
  for (const c of clients) {
    const t = c.sub.trackers.get(0)!
    expect({ kind: c.sub.kind, received: t.received, duplicates: t.duplicates, outOfOrder: c.sub.outOfOrder, errors: c.sub.errors })
      .toEqual({ kind: c.sub.kind, received: seq, duplicates: 0, outOfOrder: 0, errors: 0 })
  }
}

for (const [name, start] of [['raw-bun', () => startRawBun()], ['raw-bun-durable', () => startRawBun(true)], ['ringcast (compiled)', () => startRingcast({ fromSource: false })]] as const) {
  describe(`generator against ${name}`, () => {
    let server: Server
    let target: Target
    beforeAll(async () => {
      server = await start()
      target = targetOf(server.spec)
    })
    afterAll(() => server?.stop())

    test('SSE, WebSocket and long-poll subscribers get single and batch publishes once each, in order, across a drop and resume', async () => {
      const stream = 'peer.wire'
      let seq = 0
      const publishOne = () => send(target.publish(stream, payload(0, ++seq, 0)))
      expect(await publishOne()).toBe(201)

      const sink = new Sink()
      const { clients, state, received } = clientsOf(target, stream, sink)
      try {
        for (const c of clients) void c.open()
        await until(() => state.live === clients.length, 'all subscribers live')
        await until(() => clients.every((c) => received(c) === 1), 'the event published before subscribing')

        expect(await publishOne()).toBe(201)
        expect(await send(target.publishBatch!(stream, [payload(0, ++seq, 0), payload(0, ++seq, 0)]))).toBe(201)
        await until(() => clients.every((c) => received(c) === seq), 'single and batch publishes')

        for (const c of clients) c.drop()
        for (let i = 0; i < 3; i++) expect(await publishOne()).toBe(201)
        await until(() => clients.every((c) => received(c) === seq), 'events published while resuming')

        expectEachOnce(clients, seq)
        expect(clients.filter((c) => c.sub.kind !== 'poll').map((c) => c.sub.reconnects)).toEqual([1, 1])
        expect(sink.controls).toEqual({})
      } finally {
        for (const c of clients) c.close()
      }
    })

    test('a page read answers at once with the stored envelopes', async () => {
      expect(await send(target.publishBatch!('peer.page', [payload(1, 1, 0), payload(1, 2, 0)]))).toBe(201)
      const res = await fetch(target.readPage!('peer.page'))
      const page = (await res.json()) as { events: { id: number; stream: string; data: { q: number } }[]; next: number }
      expect(page.events.map((e) => [e.stream, e.data.q])).toEqual([['peer.page', 1], ['peer.page', 2]])
      expect(page.next).toBe(page.events[1].id)
    })
  })
}

// raw-bun-durable stands for raw Bun's cost with durable acks: what it acknowledged must be in its file, even after a kill.
test('raw-bun --durable has every acknowledged event in its SQLite file when killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raw-durable-'))
  const file = join(dir, 'raw.db')
  const port = await freePort()
  const proc = Bun.spawn([process.execPath, new URL('../../bench/peers/raw-bun.ts', import.meta.url).pathname, String(port), '--durable', file], { stdio: ['ignore', 'ignore', 'inherit'] })
  try {
    await waitReady(`http://127.0.0.1:${port}/readyz`, 10_000, () => '', () => proc.exitCode !== null)
    const target = targetOf({ kind: 'raw-bun', base: `http://127.0.0.1:${port}` })
    expect(await send(target.publish('peer.durable', payload(0, 1, 0)))).toBe(201)
    expect(await send(target.publishBatch!('peer.durable', [payload(0, 2, 0), payload(0, 3, 0)]))).toBe(201)
    proc.kill('SIGKILL')
    await proc.exited
    const db = new Database(file, { readonly: true })
    const rows = db.query('SELECT id, stream, data FROM events ORDER BY id').all() as { id: number; stream: string; data: string }[]
    db.close()
    expect(rows.map((r) => [r.id, r.stream, (JSON.parse(r.data) as { q: number }).q])).toEqual([[1, 'peer.durable', 1], [2, 'peer.durable', 2], [3, 'peer.durable', 3]])
  } finally {
    proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

// bench --cluster: the generator's subscribers on one node must get what the other node took, or the cluster rows mean nothing.
describe('generator against two ringcast nodes on one Redis (bench --cluster)', () => {
  let server: Server
  let nodes: Target[]
  beforeAll(async () => {
    server = await startCluster('ringcast', 2, { fromSource: false })
    nodes = nodeTargets(server.spec)
  })
  afterAll(() => server?.stop())

  test('subscribers on node b get every event published on node a once, in order, across a drop and resume', async () => {
    const [a, b] = nodes
    expect(targetOf(server.spec).name).toBe('ringcast×2')
    expect(server.processes!.map((p) => p.name)).toEqual(['node a', 'node b', 'redis'])
    const stream = 'cluster.wire'
    let seq = 0
    const publishOnA = () => send(a.publish(stream, payload(0, ++seq, 0)))
    const sink = new Sink()
    const { clients, state, received } = clientsOf(b, stream, sink, 1)
    try {
      for (const c of clients) void c.open()
      await until(() => state.live === clients.length, 'all subscribers live on node b')
      expect(await publishOnA()).toBe(201)
      expect(await send(a.publishBatch!(stream, [payload(0, ++seq, 0), payload(0, ++seq, 0)]))).toBe(201)
      await until(() => clients.every((c) => received(c) === seq), 'node a\'s publishes on node b')

      for (const c of clients) c.drop()
      for (let i = 0; i < 3; i++) expect(await publishOnA()).toBe(201)
      await until(() => clients.every((c) => received(c) === seq), 'events published on node a while node b\'s subscribers resume')
      expectEachOnce(clients, seq)
      expect(Object.keys(sink.byNode)).toEqual(['1'])
    } finally {
      for (const c of clients) c.close()
    }
  })

  test('stopping the cluster ends both nodes and Redis', async () => {
    const pids = server.processes!.map((p) => p.pid)
    await server.stop()
    const alive = pids.filter((pid) => { try { return process.kill(pid, 0) } catch { return false } })
    expect(alive).toEqual([])
  })
})
