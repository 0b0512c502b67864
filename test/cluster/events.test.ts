import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { exportNdjson, type BinaryServer } from '../helpers/binary'
import { TestCluster } from '../helpers/cluster'
import { eventually, publishEvents } from '../helpers/publisher'
import type { SseClient } from '../helpers/sse-client'
import { transports, type Subscriber } from '../helpers/subscriber'

// Three nodes of the compiled binary on one real redis-server with AOF on.
let cluster: TestCluster
let nodes: BinaryServer[]
beforeAll(async () => {
  cluster = await TestCluster.start(3)
  nodes = cluster.nodes
})
afterAll(() => cluster?.close())

const ids = (events: { id: number }[]) => events.map((e) => e.id)

describe('three nodes on one Redis', () => {
  test('an event published on any node reaches SSE and WebSocket subscribers on every node, in one order', async () => {
    const subs = await Promise.all(nodes.flatMap((n) => [transports.sse(n.url, ['fan.*']), transports.ws(n.url, ['fan.*'])]))
    const published = []
    for (let i = 0; i < 9; i++) published.push(...(await publishEvents(nodes[i % 3].url, `fan.${i % 3}`, [{ type: 't', data: { i } }])))
    for (const s of subs) expect(ids(await s.collect(9))).toEqual(ids(published))
    await Promise.all(subs.map((s) => s.close()))
  })

  test('600 events published concurrently through three nodes get distinct ids, and every node delivers them in one order', async () => {
    const subs = await Promise.all([transports.sse(nodes[0].url, ['storm.*']), transports.ws(nodes[1].url, ['storm.*']), transports.poll(nodes[2].url, ['storm.*'])])
    const acked = (await Promise.all(Array.from({ length: 600 }, (_, i) => publishEvents(nodes[i % 3].url, `storm.${i % 6}`, [{ type: 't', data: { i } }])))).flat()
    const issued = ids(acked).sort((a, b) => a - b)
    expect(new Set(issued).size).toBe(600)
    for (const s of subs) expect(ids(await s.collect(600))).toEqual(issued)
    // Every node's history holds them in the same order too.
    for (const n of nodes) expect(ids(await exportNdjson(n.url, ['storm.*']))).toEqual(issued)
    await Promise.all(subs.map((s) => s.close()))
  })

  for (const transport of ['sse', 'ws', 'poll'] as const) {
    test(`${transport}: read up to N on one node, resume on another with N and get exactly N+1…, then live`, async () => {
      const pattern = `resume-${transport}.*`
      const history = [...(await publishEvents(nodes[0].url, `resume-${transport}.a`, Array.from({ length: 10 }, (_, i) => ({ data: { i } })))), ...(await publishEvents(nodes[1].url, `resume-${transport}.b`, Array.from({ length: 10 }, (_, i) => ({ data: { i } }))))]
      const first = await transports[transport](nodes[0].url, [pattern], { after: 0 })
      const read = await first.collect(12)
      await first.close()
      const position = read.at(-1)!.id
      const resumed = await transports[transport](nodes[2].url, [pattern], transport === 'sse' ? { lastEventId: position } : { after: position })
      expect(ids(await resumed.collect(8))).toEqual(ids(history.slice(12)))
      const live = await publishEvents(nodes[1].url, `resume-${transport}.a`, [{ data: 'live' }])
      expect((await resumed.nextEvent()).id).toBe(live[0].id)
      await resumed.close()
    })
  }

  test('an idempotency key is remembered cluster-wide: the same key on another node is a duplicate with the original id', async () => {
    const sub = await transports.sse(nodes[2].url, ['dedup.one'])
    const post = (node: BinaryServer) =>
      fetch(`${node.url}/v1/streams/dedup.one/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ data: { n: 1 }, key: 'order-42' }) })
    const original = await post(nodes[0])
    expect(original.status).toBe(201)
    const { id } = (await original.json()) as { id: number }
    for (const node of [nodes[1], nodes[2]]) {
      const again = await post(node)
      expect(again.status).toBe(200)
      expect(await again.json()).toMatchObject({ id, duplicate: true })
    }
    const after = await publishEvents(nodes[1].url, 'dedup.one', [{ data: 'next' }])
    // Stored once: the subscriber sees the original, then the next event, nothing between.
    expect(ids(await sub.collect(2))).toEqual([id, after[0].id])
    await sub.close()
  })

  test('/v1/connections and /metrics say which node answers; /metrics shows the log head and this node\'s lag', async () => {
    const sub = await transports.sse(nodes[1].url, ['who.*'])
    const listed = (await (await fetch(`${nodes[1].url}/v1/connections`)).json()) as { node: string; connections: { patterns: string[] }[] }
    expect(listed.node).toBe(`${hostname()}:${nodes[1].port}`)
    expect(listed.connections.some((c) => c.patterns.includes('who.*'))).toBe(true)
    const elsewhere = (await (await fetch(`${nodes[0].url}/v1/connections`)).json()) as { node: string; connections: { patterns: string[] }[] }
    expect(elsewhere.node).not.toBe(listed.node)
    expect(elsewhere.connections.some((c) => c.patterns.includes('who.*'))).toBe(false)
    const [event] = await publishEvents(nodes[0].url, 'who.x', [{ data: 1 }])
    await sub.nextEvent()
    const metrics = await (await fetch(`${nodes[1].url}/metrics`)).text()
    expect(metrics).toContain(`ringcast_node_info{node="${listed.node}",store="redis"} 1`)
    expect(Number(/^ringcast_log_head_id (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(event.id)
    expect(metrics).toMatch(/^ringcast_follow_lag_events \d+$/m)
    await sub.close()
  })

  test('a node with --redis keeps nothing on local disk', () => {
    for (const n of nodes) expect(readdirSync(n.dir!)).toEqual([])
  })
})

describe('faults', () => {
  test('kill -9 of a node mid-storm: its subscribers move to other nodes and receive every acknowledged event once', async () => {
    const storm = await TestCluster.start(3)
    try {
      const [a, b, doomed] = storm.nodes
      const moving = await Promise.all([transports.sse(doomed.url, ['kill.*'], { after: 0 }), transports.ws(doomed.url, ['kill.*'], { after: 0 })])
      const publishers = [publishing(a.url, 'kill.a'), publishing(b.url, 'kill.b'), publishing(doomed.url, 'kill.doomed')]
      await Promise.all(moving.map((s) => s.collect(100)))
      doomed.kill('SIGKILL')
      await Promise.all(moving.map((s) => s.finished.catch(() => undefined)))
      // Each reconnects from its last id to a surviving node while the storm goes on.
      const moved = await Promise.all(
        moving.map((s, i) => {
          const last = s.events().at(-1)!.id
          return transports[s.transport]([a, b][i].url, ['kill.*'], s.transport === 'sse' ? { lastEventId: last } : { after: last })
        }),
      )
      await Promise.all(moved.map((s) => s.collect(100)))
      const acked = (await Promise.all(publishers.map((p) => p.stop()))).flat().sort((x, y) => x - y)
      for (const [i, s] of moved.entries()) {
        while (s.events().length === 0 || s.events().at(-1)!.id < acked.at(-1)!) await s.nextEvent()
        const received = [...ids(moving[i].events()), ...ids(s.events())]
        // Once each: nothing twice, and every acknowledged id present.
        expect(new Set(received).size).toBe(received.length)
        expect(acked.filter((id) => !received.includes(id))).toEqual([])
        await s.close()
      }
    } finally {
      await storm.close()
    }
  })

  test('Redis stopped: publishes answer 503 with Retry-After, /readyz is 503, subscribers stay; back with AOF: nothing acknowledged is lost and they go on', async () => {
    const pair = await TestCluster.start(2, ['--heartbeat', '1'])
    try {
      const [a, b] = pair.nodes
      const subs: Subscriber[] = await Promise.all([transports.sse(a.url, ['down.*']), transports.ws(b.url, ['down.*'])])
      const before = await publishEvents(a.url, 'down.x', Array.from({ length: 20 }, (_, i) => ({ data: { i } })))
      for (const s of subs) expect(ids(await s.collect(20))).toEqual(ids(before))

      await pair.redis.kill()
      for (const node of [a, b]) {
        const refused = await fetch(`${node.url}/v1/streams/down.x/events`, { method: 'POST', body: JSON.stringify({ data: 'lost?' }), signal: AbortSignal.timeout(5000) })
        expect(refused.status).toBe(503)
        expect(refused.headers.get('content-type')).toContain('application/problem+json')
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(((await refused.json()) as { code: string }).code).toBe('unavailable')
        expect((await fetch(`${node.url}/readyz`)).status).toBe(503)
      }
      // Said once in each node's log, not once per failed call.
      for (const node of [a, b]) await node.waitFor(/WARN {2}Redis unreachable: publishes answer 503/)
      // The SSE subscriber still gets heartbeats on its open connection.
      const { client } = subs[0] as unknown as { client: SseClient }
      const seen = client.frames.length
      await client.until((f) => f.comments.length > 0 && client.frames.indexOf(f) >= seen)

      await pair.redis.restart()
      for (const node of [a, b]) await eventually(async () => (await fetch(`${node.url}/readyz`)).status === 200, 15_000, `${node.url} ready again`)
      for (const node of [a, b]) {
        await node.waitFor(/Redis answers again/)
        expect(node.stderr.match(/Redis unreachable/g)).toHaveLength(1)
      }
      expect(ids(await exportNdjson(b.url, ['down.*']))).toEqual(ids(before))
      const after = await publishEvents(b.url, 'down.x', [{ data: 'back' }, { data: 'again' }])
      for (const s of subs) {
        expect(ids(await s.collect(2))).toEqual(ids(after))
        expect(ids(s.events())).toEqual(ids([...before, ...after]))
        await s.close()
      }
    } finally {
      await pair.close()
    }
  })
})

/** Publishes batches of 5 to `stream` on `base` until stopped or the node dies; `stop()` returns every acknowledged id. */
function publishing(base: string, stream: string) {
  const acked: number[] = []
  let isStopped = false
  const loop = (async () => {
    while (!isStopped) {
      try {
        for (const e of await publishEvents(base, stream, Array.from({ length: 5 }, (_, i) => ({ data: { i } })))) acked.push(e.id)
      } catch {
        return // the node is gone: what it acknowledged before counts, what it did not is not promised
      }
    }
  })()
  return {
    async stop(): Promise<number[]> {
      isStopped = true
      await loop
      return acked
    },
  }
}
