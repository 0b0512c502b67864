import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test'
import { Filter, Selector } from '../../src/core/filter'
import { Hub, type PublishResult } from '../../src/core/hub'
import { RedisLog } from '../../src/store/redis/redis-log'
import { LOSS_GAP } from '../../src/store/redis/scripts'
import { DEFAULTS, item, RecordingSubscriber, until } from '../helpers/hub-fixture'
import { TestRedis } from '../helpers/redis-server'

// Hubs of several nodes over one Redis: one id sequence, every change applied everywhere in one order.

let redis: TestRedis
const hubs: { hub: Hub; log: RedisLog }[] = []
beforeAll(async () => {
  redis = await TestRedis.start()
})
afterAll(() => redis?.stop())
afterEach(async () => {
  for (const { hub, log } of hubs.splice(0)) {
    await hub.drain()
    hub.detach()
    await log.close()
  }
  await redis.cli('FLUSHALL')
})

async function node(): Promise<Hub> {
  const log = new RedisLog({ url: redis.url })
  const hub = await Hub.open(log, { defaults: DEFAULTS, dedupWindowSeconds: 86_400 })
  hubs.push({ hub, log })
  return hub
}
const idOf = (r: PublishResult) => (r.duplicate ? r.id : r.event.id)

test("a publish on one node reaches another node's subscriber, once, in order, with one id sequence", async () => {
  const [a, b] = [await node(), await node()]
  const onB = new RecordingSubscriber()
  b.subscribe(new Selector([new Filter(['x.*'])]), onB)
  const published = (await Promise.all([a.publish('x.1', [item(1), item(2)]), b.publish('x.2', [item(3)]), a.publish('x.1', [item(4)])])).flat().map(idOf)
  expect(new Set(published).size).toBe(4)
  await until(() => onB.ids.length === 4, 5000, 'node B to apply every event')
  expect(onB.ids).toEqual([...published].sort((x, y) => x - y))
  // Each node answers a publish once it has applied it: read-your-writes on the node that took it.
  expect(a.lastId).toBeGreaterThanOrEqual(Math.max(...published.slice(0, 2)))
  expect(a.stream('x.1')?.events).toBe(3)
  await until(() => b.stream('x.1')?.events === 3, 5000, 'node B to count x.1')
})

test('dedup keys hold across nodes; closing on one node ends exact subscribers on another', async () => {
  const [a, b] = [await node(), await node()]
  const [first] = await a.publish('y.1', [item('a', { key: 'k' })])
  const [again] = await b.publish('y.1', [item('b', { key: 'k' })])
  expect(again.duplicate).toBe(true)
  expect(idOf(again)).toBe(idOf(first))
  expect(again.event?.envelope().data).toBe('a')
  const exact = new RecordingSubscriber()
  b.subscribe(new Selector([new Filter(['y.1'])]), exact)
  await a.close('y.1')
  await until(() => exact.ended === 1, 5000, 'node B to end its subscriber')
  await expect(b.publish('y.1', [item('late')])).rejects.toMatchObject({ code: 'stream_closed' })
})

test('a node that starts late takes the catalog and replays history from Redis', async () => {
  const a = await node()
  const ids = (await a.publish('z.1', [item(1), item(2), item(3)])).map(idOf)
  const late = await node()
  expect(late.lastId).toBe(ids[2])
  expect(late.stream('z.1')).toMatchObject({ events: 3, firstId: ids[0], lastId: ids[2] })
  expect((await late.read(new Filter(['z.1']), 0, 10)).events.map((e) => e.id)).toEqual(ids)
})

test('when Redis loses its data, nodes reload: ids never go back, and older positions read as a gap', async () => {
  const [a, b] = [await node(), await node()]
  const before = (await a.publish('w.1', [item(1), item(2)])).map(idOf)
  await until(() => b.lastId === before[1], 5000, 'node B to apply')
  await redis.restart({ wipe: true })
  // Until a node reloads, the new Redis refuses writes from nodes that followed the old one.
  let after: number | undefined
  for (let attempt = 0; after === undefined && attempt < 100; attempt++) {
    try {
      after = idOf((await b.publish('w.1', [item(3)]))[0])
    } catch (error) {
      expect((error as { code: string }).code).toBe('unavailable')
      await Bun.sleep(100)
    }
  }
  expect(after).toBeGreaterThan(before[1])
  await until(() => a.lastId === after, 5000, 'node A to follow the new data')
  const page = await a.read(new Filter(['w.1']), before[0], 10)
  expect(page.events.map((e) => e.id)).toEqual([after!])
})

test('when Redis lost its last acknowledged writes (an AOF a second short, a failover), ids jump past them and every node reloads', async () => {
  const [a, b] = [await node(), await node()]
  const kept = idOf((await a.publish('v.1', [item('kept')]))[0])
  const lostIds = (await a.publish('v.1', [item('lost 1'), item('lost 2')])).map(idOf)
  await until(() => b.lastId === lostIds[1], 5000, 'node B to apply')
  // Redis comes back as it was after the first write: the sequence, history and log lose the last two.
  await redis.cli('SET', 'rc:seq', String(kept))
  for (const id of lostIds) await redis.cli('XDEL', 'rc:s:v.1', `${id}-0`)
  await redis.cli('XTRIM', 'rc:log', 'MAXLEN', '0')
  // B saw ids Redis no longer has: its publish finds the loss, answers 503, and both nodes reload.
  await expect(b.publish('v.1', [item('refused')])).rejects.toMatchObject({ code: 'unavailable' })
  let next: number | undefined
  while (next === undefined) next = await b.publish('v.1', [item('after')]).then((r) => idOf(r[0]), () => undefined)
  expect(next).toBeGreaterThan(lostIds[1] + LOSS_GAP)
  await until(() => a.lastId === next, 5000, 'node A to reload and follow')
  expect((await a.read(new Filter(['v.1']), 0, 10)).events.map((e) => e.id)).toEqual([kept, next])
})
