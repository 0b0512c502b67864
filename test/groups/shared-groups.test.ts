import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test'
import { Filter } from '../../src/core/filter'
import { Hub, type PublishResult } from '../../src/core/hub'
import { SharedGroups } from '../../src/groups/shared/shared-groups'
import { RedisGroupStore } from '../../src/store/redis/redis-group-store'
import { RedisLog } from '../../src/store/redis/redis-log'
import { DEFAULTS, item } from '../helpers/hub-fixture'
import { TestRedis } from '../helpers/redis-server'

// Shared groups where the HTTP suites cannot reach: a node that dies between finding a dead letter
// and settling it, deliveries whose events are gone, and Redis going away.

let redis: TestRedis
const nodes: { hub: Hub; log: RedisLog; store: RedisGroupStore; groups: SharedGroups }[] = []
beforeAll(async () => {
  redis = await TestRedis.start()
})
afterAll(() => redis?.stop())
afterEach(async () => {
  for (const { hub, log, store, groups } of nodes.splice(0)) {
    await groups.stop()
    await hub.drain()
    hub.detach()
    await store.close()
    await log.close()
  }
  await redis.cli('FLUSHALL')
})

/** A node as server.ts composes one with --redis (dead letters taken over after `buryLeaseMs`). */
async function node(buryLeaseMs = 300) {
  const log = new RedisLog({ url: redis.url })
  const hub = await Hub.open(log, { defaults: DEFAULTS, dedupWindowSeconds: 86_400 })
  const store = new RedisGroupStore({ url: redis.url, buryLeaseMs })
  const groups = new SharedGroups(hub, store)
  await groups.load()
  hub.hooks.signal = (name) => groups.signal(name)
  const n = { hub, log, store, groups }
  nodes.push(n)
  return n
}

const idOf = (r: PublishResult) => (r.duplicate ? r.id : r.event.id)

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`)
    await Bun.sleep(20)
  }
}

test('a node that dies after publishing a dead letter but before settling it: another node settles it, and the letter is stored once', async () => {
  const survivor = await node()
  const dying = await node()
  const { view } = await survivor.groups.put('sweep', { streams: ['sw.*'], ackTimeoutSec: 0.5 })
  const id = idOf((await survivor.hub.publish('sw.1', [item({ job: 1 })]))[0])
  const [claimed] = await dying.groups.claim('sweep', 'd', 1, 0)
  expect(claimed.event.id).toBe(id)
  // What the dying node got done: the term in Redis, the letter in dlq.sweep; then it died, before `buried`.
  const termed = await dying.store.settle('sweep', 'd', [id], { op: 'term', reason: 'dying' })
  expect(termed).toMatchObject({ kind: 'settled', ok: [id], dead: [{ id, reason: 'dying' }] })
  const letter = { type: 'dead_letter', key: `${view.config.createdMs}-${id}`, data: { event: claimed.event.envelope(), attempts: 1, reason: 'dying' } }
  await dying.hub.publish('dlq.sweep', [letter])
  await dying.groups.stop()

  await until(async () => (await survivor.groups.view('sweep')).counters.deadLetters === 1, 'the take-over')
  expect(await survivor.groups.view('sweep')).toMatchObject({ pending: 0, inFlight: 0, lag: 0 })
  const letters = (await survivor.hub.read(new Filter(['dlq.sweep']), 0, 10)).events
  expect(letters.map((e) => e.envelope().data)).toEqual([{ event: expect.objectContaining({ id }), attempts: 1, reason: 'dying' }])
})

test('a released delivery whose stream was deleted is settled as a gap, not handed out', async () => {
  const n = await node()
  await n.groups.put('lost', { streams: ['lost.*'], ackTimeoutSec: 30 })
  const [gone] = (await n.hub.publish('lost.1', [item(1)])).map(idOf)
  const [kept] = (await n.hub.publish('lost.2', [item(2)])).map(idOf)
  expect((await n.groups.claim('lost', 'w', 2, 0)).map((d) => d.event.id)).toEqual([gone, kept])
  await n.groups.nack('lost', 'w', [gone, kept])
  await n.hub.delete('lost.1')
  expect((await n.groups.claim('lost', 'w', 2, 0)).map((d) => [d.event.id, d.attempt])).toEqual([[kept, 2]])
  expect(await n.groups.view('lost')).toMatchObject({ pending: 1, counters: { gaps: 1, lastGap: { after: gone - 1, firstId: gone + 1 } } })
})

test('Redis away: group operations fail at once with unavailable; once it is back the lease is still there', async () => {
  const n = await node()
  await n.groups.put('away', { streams: ['away.*'] })
  const [id] = (await n.hub.publish('away.1', [item(1)])).map(idOf)
  expect((await n.groups.claim('away', 'w', 1, 0)).map((d) => d.event.id)).toEqual([id])
  await redis.kill()
  const asked = performance.now()
  await expect(n.groups.ack('away', 'w', [id])).rejects.toMatchObject({ code: 'unavailable' })
  await expect(n.groups.claim('away', 'w', 1, 0)).rejects.toMatchObject({ code: 'unavailable' })
  expect(performance.now() - asked).toBeLessThan(1000)
  await redis.restart()
  let acked: number[] = []
  await until(async () => (acked = (await n.groups.ack('away', 'w', [id]).catch(() => ({ ok: [] }))).ok).length > 0, 'an ack once Redis is back', 10_000)
  expect(acked).toEqual([id])
})
