import { afterAll, beforeAll, expect, test } from 'bun:test'
import { type BinaryServer, requireBinary, startBinary } from '../helpers/binary'
import { TestRedis } from '../helpers/redis-server'
import { WsTestClient } from '../helpers/ws-client'
import { GroupClient, Ledger, publishMany } from '../groups/group-client'

// One consumer group worked from two nodes of the compiled binary on one real redis-server.

let redis: TestRedis
let a: BinaryServer
let b: BinaryServer
const sockets: WsTestClient[] = []
beforeAll(async () => {
  requireBinary()
  redis = await TestRedis.start({ appendfsync: 'everysec' })
  ;[a, b] = await Promise.all([startBinary({ args: ['--redis', redis.url] }), startBinary({ args: ['--redis', redis.url] })])
})
afterAll(async () => {
  for (const s of sockets) s.close()
  await Promise.all([a?.dispose(), b?.dispose()])
  await redis?.stop()
})

/** The group as seen from each node. */
const on = (name: string) => ({ a: new GroupClient(a.url, name), b: new GroupClient(b.url, name) })

/** Resolves once `consumer` has reached the store (its claim touched the group), as node `g` reports it. */
async function seen(g: GroupClient, consumer: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!(await g.info()).consumers.some((c: { consumer: string }) => c.consumer === consumer)) {
    if (Date.now() > deadline) throw new Error(`${consumer} never reached the group`)
    await Bun.sleep(10)
  }
}

async function socket(node: BinaryServer): Promise<WsTestClient> {
  const ws = await WsTestClient.open(`${node.url.replace('http', 'ws')}/v1/ws`)
  sockets.push(ws)
  return ws
}

test('claim on one node, ack on the other; a claim waiting on B is answered by a publish on A, then by a nack on A', async () => {
  const g = on('two')
  expect((await g.a.put({ streams: ['two.*'] })).status).toBe(201)
  const [first] = await publishMany(a.url, 'two.1', 1)
  const [claimed] = await g.a.claim('w1', 1)
  expect(claimed).toMatchObject({ event: { id: first }, attempt: 1 })
  expect(await g.b.ack('w1', [first])).toEqual({ ok: [first], notHeld: [] })
  expect(await g.a.ack('w1', [first])).toEqual({ ok: [], notHeld: [first] })
  const [infoA, infoB] = [await g.a.info(), await g.b.info()]
  expect(infoB).toMatchObject({ acks: 1, pending: 0, inFlight: 0, lag: 0 })
  expect({ ...infoA, acksPerSecond: 0 }).toEqual({ ...infoB, acksPerSecond: 0 })

  const waiting = g.b.claim('b1', 1, 10)
  await seen(g.a, 'b1')
  const published = performance.now()
  const [second] = await publishMany(a.url, 'two.1', 1)
  expect((await waiting)[0]).toMatchObject({ event: { id: second }, attempt: 1 })
  expect(performance.now() - published).toBeLessThan(1000)

  const again = g.b.claim('b2', 1, 10)
  await seen(g.a, 'b2')
  const nacked = performance.now()
  expect(await g.a.settle('nack', { consumer: 'b1', ids: [second] })).toEqual({ ok: [second], notHeld: [] })
  expect((await again)[0]).toMatchObject({ event: { id: second }, attempt: 2 })
  expect(performance.now() - nacked).toBeLessThan(1000)
  await g.a.ack('b2', [second])
})

test('consumers on two nodes claiming at once never hold the same event; each is acked once', async () => {
  const g = on('race')
  await g.a.put({ streams: ['race.*'] })
  const feeding = Promise.all([publishMany(a.url, 'race.a', 150), publishMany(b.url, 'race.b', 150)])
  const ledger = new Ledger()
  const nacked = new Set<number>()
  const worker = (group: GroupClient, name: string) =>
    group.claimUntilQuiet(name, 5, 0.2, 3, async (got) => {
      for (const d of got) ledger.claimed(name, d.event.id)
      const ids = got.map((d) => d.event.id)
      // Some go back once: released leases are raced for as well. Let go before the nack is sent.
      const back = ids.filter((id) => id % 7 === 0 && !nacked.has(id))
      for (const id of back) {
        nacked.add(id)
        ledger.holder.delete(id)
      }
      if (back.length > 0) await group.settle('nack', { consumer: name, ids: back })
      const keep = ids.filter((id) => !back.includes(id))
      if (keep.length === 0) return
      const { ok, notHeld } = await group.ack(name, keep)
      expect(notHeld).toEqual([])
      ledger.settled(ok)
    })
  await Promise.all([worker(g.a, 'a1'), worker(g.a, 'a2'), worker(g.b, 'b1'), worker(g.b, 'b2')])
  const ids = (await feeding).flat()
  expect(ledger.violations).toEqual([])
  expect([...ledger.acked.keys()].sort((x, y) => x - y)).toEqual(ids.sort((x, y) => x - y))
  expect([...ledger.acked.values()].every((n) => n === 1)).toBe(true)
  expect(await g.b.info()).toMatchObject({ lag: 0, pending: 0, inFlight: 0, acks: 300 })
})

test('ordering "stream" across nodes: one event of a stream in flight at a time, in order', async () => {
  const g = on('ordx')
  await g.b.put({ streams: ['ordx.*'], ordering: 'stream' })
  for (let i = 0; i < 5; i++) for (const s of ['ordx.1', 'ordx.2', 'ordx.3']) await publishMany(i % 2 ? a.url : b.url, s, 1, () => i)
  const inFlight = new Map<string, number>()
  const order = new Map<string, number[]>()
  const violations: string[] = []
  let acked = 0
  const worker = async (group: GroupClient, name: string) => {
    while (acked < 15) {
      const got = await group.claim(name, 10, 0.2)
      for (const d of got) {
        const s = d.event.stream
        inFlight.set(s, (inFlight.get(s) ?? 0) + 1)
        if (inFlight.get(s)! > 1) violations.push(`${s} twice in flight`)
        order.set(s, [...(order.get(s) ?? []), d.event.data])
      }
      await Bun.sleep(Math.random() * 5)
      // Out of flight before the ack is sent: the next of its stream cannot be handed before the ack lands.
      for (const d of got) inFlight.set(d.event.stream, inFlight.get(d.event.stream)! - 1)
      if (got.length === 0) continue
      const { ok } = await group.ack(name, got.map((d) => d.event.id))
      acked += ok.length
    }
  }
  await Promise.all([worker(g.a, 'a1'), worker(g.b, 'b1'), worker(g.a, 'a2'), worker(g.b, 'b2')])
  expect(violations).toEqual([])
  expect(Object.fromEntries(order)).toEqual({ 'ordx.1': [0, 1, 2, 3, 4], 'ordx.2': [0, 1, 2, 3, 4], 'ordx.3': [0, 1, 2, 3, 4] })
})

test('push consumers on two nodes share a group; one that closes hands its deliveries to the other at once', async () => {
  const g = on('pushx')
  await g.a.put({ streams: ['pushx.*'] })
  const ledger = new Ledger()
  const got = { a: 0, b: 0 }
  let done = 0
  const N = 100
  for (const node of ['a', 'b'] as const) {
    const ws = await socket(node === 'a' ? a : b)
    ws.socket.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data))
      if (m.op !== 'delivery') return
      ledger.claimed(node, m.event.id)
      got[node]++
      setTimeout(() => {
        ledger.settled([m.event.id])
        ws.send({ op: 'ack', group: 'pushx', ids: [m.event.id] })
        done++
      }, Math.random() * 3)
    })
    ws.send({ op: 'consume', sub: 'c', group: 'pushx', consumer: `push-${node}`, max: 3 })
    expect(await ws.next((m) => m.op === 'ok' || m.op === 'error')).toEqual({ op: 'ok', sub: 'c' })
  }
  const ids = [...(await publishMany(a.url, 'pushx.1', N / 2)), ...(await publishMany(b.url, 'pushx.2', N / 2))]
  const deadline = Date.now() + 10_000
  while ((await g.b.info()).acks < N && Date.now() < deadline) await Bun.sleep(20)
  expect(ledger.violations).toEqual([])
  expect([...ledger.acked.keys()].sort((x, y) => x - y)).toEqual(ids)
  expect(got.a + got.b).toBe(N)
  expect(got.a).toBeGreaterThan(0)
  expect(got.b).toBeGreaterThan(0)
  for (const ws of sockets.splice(0)) ws.close()

  // A consumer on A holds three; its socket closes; B's consumer gets them with attempt 2.
  const holder = await socket(a)
  holder.send({ op: 'consume', sub: 'h', group: 'pushx', consumer: 'holder', max: 3 })
  await holder.next((m) => m.op === 'ok')
  const held = await publishMany(b.url, 'pushx.3', 3)
  for (let i = 0; i < 3; i++) await holder.next((m) => m.op === 'delivery')
  const taker = await socket(b)
  taker.send({ op: 'consume', sub: 't', group: 'pushx', consumer: 'taker', max: 3 })
  await taker.next((m) => m.op === 'ok')
  holder.close()
  const again = [await taker.next((m) => m.op === 'delivery'), await taker.next((m) => m.op === 'delivery'), await taker.next((m) => m.op === 'delivery')]
  expect(again.map((m) => [m.event.id, m.attempt])).toEqual(held.map((id) => [id, 2]))
})

test('dead letters are written once when both nodes race for them', async () => {
  const g = on('dlx')
  await g.a.put({ streams: ['dlx.*'], maxDeliveries: 1, ackTimeout: 0.3 })
  // Expired at their last attempt: both nodes' timers come due together.
  const expired = await publishMany(a.url, 'dlx.1', 20)
  expect((await g.a.claim('slow', 20)).length).toBe(20)
  // Terminated from both nodes at once: one of the two takes each.
  const termed = await publishMany(b.url, 'dlx.2', 10)
  expect((await g.b.claim('quitter', 10)).length).toBe(10)
  const [fromA, fromB] = await Promise.all([g.a.settle('term', { ids: termed, reason: 'from A' }), g.b.settle('term', { ids: termed, reason: 'from B' })])
  expect([...fromA.ok, ...fromB.ok].sort((x, y) => x - y)).toEqual(termed)
  const deadline = Date.now() + 10_000
  while ((await g.b.info()).deadLetters < 30 && Date.now() < deadline) await Bun.sleep(20)
  const letters = (await g.a.call('GET', '/v1/streams/dlq.dlx/events?after=0&limit=100')).body.events
  expect(letters.map((e: any) => e.data.event.id).sort((x: number, y: number) => x - y)).toEqual([...expired, ...termed].sort((x, y) => x - y))
  expect(await g.a.info()).toMatchObject({ deadLetters: 30, pending: 0, inFlight: 0 })
})
