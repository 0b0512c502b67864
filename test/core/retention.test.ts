import { afterEach, describe, expect, test } from 'bun:test'
import { Filter, Selector } from '../../src/core/filter'
import { Retention, type RetentionOptions } from '../../src/core/retention'
import { clockPast, HubFixture, item, publishMany, RecordingSubscriber, until } from '../helpers/hub-fixture'

let fx: HubFixture
let retention: Retention | undefined
afterEach(() => {
  retention?.stop()
  retention = undefined
  fx?.close()
})

const ids = (events: readonly { id: number }[]) => events.map((e) => e.id)
function retentionFor(fx: HubFixture, options: Partial<RetentionOptions> = {}, pruned: number[] = []): Retention {
  retention = new Retention(
    fx.log,
    fx.hub.streams,
    { dedupWindowSeconds: 86_400, ringIdleMs: 60_000, batch: 5000, ...options },
    (name) => fx.hub.subscriberCount(name) > 0,
    (n) => pruned.push(n),
  )
  return retention
}
const logIds = (fx: HubFixture, stream: string) => fx.log.since([stream], 0, 10_000, null).map((r) => r.id)

describe('max events', () => {
  test('one pass brings a stream back to its newest maxEvents, in the log, the ring and the stats', async () => {
    fx = new HubFixture()
    fx.hub.configure('r.1', { maxEvents: 5 })
    const published = await publishMany(fx.hub, 'r.1', 12)
    const kept = published.slice(-5)
    const pruned: number[] = []
    expect(retentionFor(fx, {}, pruned).pass()).toBe(7)
    expect(pruned).toEqual([7])
    expect(logIds(fx, 'r.1')).toEqual(kept)
    const state = fx.hub.streams.get('r.1')!
    expect(state).toMatchObject({ events: 5, firstId: kept[0], lastId: kept[4] })
    expect(state.record.prunedThrough).toBe(published[6])
    // Pruned events left the ring too.
    expect(ids(state.ring!.tail(Infinity))).toEqual(kept)
    // A second pass finds nothing to do.
    expect(retention!.pass()).toBe(0)
  })

  test('a read from before the prune reports the gap, then replays what is left', async () => {
    fx = new HubFixture()
    fx.hub.configure('r.2', { maxEvents: 3 })
    const published = await publishMany(fx.hub, 'r.2', 8)
    retentionFor(fx).pass()
    const filter = new Filter(['r.2'])
    for (const after of [0, published[0], published[4] - 1]) {
      const read = fx.hub.reader.read(filter, after, 100)
      expect(read.gap).toEqual({ after, firstId: published[5] })
      expect(ids(read.events)).toEqual(published.slice(5))
    }
    // From the last pruned id on, there is no gap.
    const clean = fx.hub.reader.read(filter, published[4], 100)
    expect(clean.gap).toBeUndefined()
    expect(ids(clean.events)).toEqual(published.slice(5))
  })

  test('the prune and its gap survive a restart', async () => {
    fx = new HubFixture()
    fx.hub.configure('r.3', { maxEvents: 2 })
    const published = await publishMany(fx.hub, 'r.3', 5)
    retentionFor(fx).pass()
    retention!.stop()
    const hub = fx.reopen()
    const read = hub.reader.read(new Filter(['r.3']), 0, 100)
    expect(read.gap).toEqual({ after: 0, firstId: published[3] })
    expect(ids(read.events)).toEqual(published.slice(3))
    expect(hub.streams.get('r.3')!.events).toBe(2)
  })

  test('works in batches: each pass removes at most `batch` events, over all streams', async () => {
    fx = new HubFixture()
    fx.hub.configure('b.1', { maxEvents: 2 })
    fx.hub.configure('b.2', { maxEvents: 2 })
    await publishMany(fx.hub, 'b.1', 7)
    await publishMany(fx.hub, 'b.2', 6)
    const r = retentionFor(fx, { batch: 3 })
    const removed: number[] = []
    for (let n = r.pass(); n > 0; n = r.pass()) removed.push(n)
    expect(removed.every((n) => n <= 3)).toBe(true)
    expect(removed.reduce((a, b) => a + b, 0)).toBe(5 + 4)
    expect(logIds(fx, 'b.1').length).toBe(2)
    expect(logIds(fx, 'b.2').length).toBe(2)
  })

  test('the background timer brings a stream within limits on its own', async () => {
    fx = new HubFixture()
    fx.hub.configure('bg.1', { maxEvents: 4 })
    await publishMany(fx.hub, 'bg.1', 20)
    retentionFor(fx, { batch: 5 }).start(10)
    await until(() => fx.hub.streams.get('bg.1')!.events === 4, 3000, 'retention to catch up')
    expect(logIds(fx, 'bg.1').length).toBe(4)
  })
})

describe('events held by a consumer group', () => {
  test('survive retention until released, then go on the next pass', async () => {
    fx = new HubFixture()
    fx.hub.configure('held.1', { maxEvents: 2 })
    const published = await publishMany(fx.hub, 'held.1', 8)
    let heldFrom: number | undefined = published[3]
    const r = retentionFor(fx, { heldFrom: (stream) => (stream === 'held.1' ? heldFrom : undefined) })
    expect(r.pass()).toBe(3)
    expect(logIds(fx, 'held.1')).toEqual(published.slice(3))
    const read = fx.hub.reader.read(new Filter(['held.1']), 0, 100)
    expect(read.gap).toEqual({ after: 0, firstId: published[3] })
    expect(ids(read.events)).toEqual(published.slice(3))
    heldFrom = undefined
    expect(r.pass()).toBe(3)
    expect(logIds(fx, 'held.1')).toEqual(published.slice(6))
    expect(fx.hub.streams.get('held.1')!.events).toBe(2)
  })
})

describe('max age', () => {
  test('events older than maxAgeSeconds go; newer ones stay', async () => {
    fx = new HubFixture()
    fx.hub.configure('age.1', { maxAgeSeconds: 1 })
    const old = await fx.hub.publish('age.1', [item(1), item(2)])
    await clockPast(old[0].event!.timeMs)
    const [fresh] = await fx.hub.publish('age.1', [item(3)])
    // At fresh's time + 1 s, everything before fresh is past the age bound.
    expect(retentionFor(fx).pass(fresh.event!.timeMs + 1000)).toBe(2)
    expect(logIds(fx, 'age.1')).toEqual([fresh.event!.id])
    const state = fx.hub.streams.get('age.1')!
    expect(state.firstTimeMs).toBe(fresh.event!.timeMs)
    expect(ids(state.ring!.tail(Infinity))).toEqual([fresh.event!.id])
    const read = fx.hub.reader.read(new Filter(['age.1']), 0, 10)
    expect(read.gap).toEqual({ after: 0, firstId: fresh.event!.id })
  })

  test('a stream whose every event expired is empty; a read reports a gap past the last id', async () => {
    fx = new HubFixture()
    fx.hub.configure('age.2', { maxAgeSeconds: 1 })
    const published = await publishMany(fx.hub, 'age.2', 3)
    retentionFor(fx).pass(Date.now() + 5000)
    const state = fx.hub.streams.get('age.2')!
    expect(state).toMatchObject({ events: 0, firstId: null, firstTimeMs: null })
    expect(state.ring!.size).toBe(0)
    const read = fx.hub.reader.read(new Filter(['age.2']), 0, 10)
    expect(read.events).toEqual([])
    expect(read.gap).toEqual({ after: 0, firstId: published[2] + 1 })
  })
})

describe('ephemeral streams', () => {
  test('are trimmed in their ring by max events, and a read from before reports the gap', async () => {
    fx = new HubFixture()
    fx.hub.configure('eph.1', { ephemeral: true, maxEvents: 3 })
    const published = await publishMany(fx.hub, 'eph.1', 8)
    expect(retentionFor(fx).pass()).toBe(5)
    const state = fx.hub.streams.get('eph.1')!
    expect(ids(state.ring!.tail(Infinity))).toEqual(published.slice(-3))
    expect(state).toMatchObject({ events: 3, firstId: published[5] })
    expect(state.record.prunedThrough).toBe(published[4])
    const read = fx.hub.reader.read(new Filter(['eph.1']), 0, 100)
    expect(read.gap).toEqual({ after: 0, firstId: published[5] })
    expect(ids(read.events)).toEqual(published.slice(-3))
  })

  test('are trimmed by age', async () => {
    fx = new HubFixture()
    fx.hub.configure('eph.2', { ephemeral: true, maxAgeSeconds: 1 })
    const old = await publishMany(fx.hub, 'eph.2', 2)
    const oldTime = fx.hub.streams.get('eph.2')!.ring!.tail(1)[0].timeMs
    await clockPast(oldTime)
    const [fresh] = await fx.hub.publish('eph.2', [item('fresh')])
    expect(retentionFor(fx).pass(fresh.event!.timeMs + 1000)).toBe(old.length)
    expect(ids(fx.hub.streams.get('eph.2')!.ring!.tail(Infinity))).toEqual([fresh.event!.id])
  })

  test('are never evicted as idle: the ring is all they have', async () => {
    fx = new HubFixture()
    fx.hub.configure('eph.3', { ephemeral: true })
    const published = await publishMany(fx.hub, 'eph.3', 3)
    retentionFor(fx, { ringIdleMs: 0 }).pass(Date.now() + 3_600_000)
    expect(ids(fx.hub.reader.read(new Filter(['eph.3']), 0, 10).events)).toEqual(published)
  })
})

describe('idle rings', () => {
  test('an idle ring is evicted and rebuilt from the log with the same events', async () => {
    fx = new HubFixture({ defaults: { ringSize: 4, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    const published = await publishMany(fx.hub, 'idle.1', 10)
    const filter = new Filter(['idle.1'])
    const positions = [0, published[3], published[6], published[8], published[9]]
    const before = positions.map((p) => ids(fx.hub.reader.read(filter, p, 100).events))
    const tailBefore = ids(fx.hub.reader.tail(filter, 3))
    const state = fx.hub.streams.get('idle.1')!
    const ringBefore = ids(state.ring!.tail(Infinity))

    retentionFor(fx, { ringIdleMs: 1000 }).pass(Date.now() + 2000)
    expect(state.ring).toBeUndefined()

    expect(positions.map((p) => ids(fx.hub.reader.read(filter, p, 100).events))).toEqual(before)
    expect(ids(fx.hub.reader.tail(filter, 3))).toEqual(tailBefore)
    const rebuilt = fx.hub.streams.ring(state)
    expect(ids(rebuilt.tail(Infinity))).toEqual(ringBefore)
    expect(rebuilt.covers(published[5])).toBe(true)
    expect(rebuilt.covers(published[4])).toBe(false)
    // New events go on from the rebuilt ring.
    const [next] = await fx.hub.publish('idle.1', [item('next')])
    expect(ids(fx.hub.reader.read(filter, published[9], 10).events)).toEqual([next.event!.id])
  })

  test('a ring with a live subscriber, or touched recently, is kept', async () => {
    fx = new HubFixture()
    await publishMany(fx.hub, 'idle.2', 2)
    await publishMany(fx.hub, 'idle.3', 2)
    fx.hub.subscribe(new Selector([new Filter(['idle.2'])]), new RecordingSubscriber())
    const r = retentionFor(fx, { ringIdleMs: 1000 })
    r.pass(Date.now())
    expect(fx.hub.streams.get('idle.3')!.ring).toBeDefined()
    r.pass(Date.now() + 2000)
    expect(fx.hub.streams.get('idle.2')!.ring).toBeDefined()
    expect(fx.hub.streams.get('idle.3')!.ring).toBeUndefined()
  })

  test('eviction after a prune: the rebuilt ring still knows where history starts', async () => {
    fx = new HubFixture({ defaults: { ringSize: 8, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    fx.hub.configure('idle.4', { maxEvents: 3 })
    const published = await publishMany(fx.hub, 'idle.4', 6)
    retentionFor(fx, { ringIdleMs: 1000 }).pass(Date.now() + 2000)
    expect(fx.hub.streams.get('idle.4')!.ring).toBeUndefined()
    const read = fx.hub.reader.read(new Filter(['idle.4']), 0, 100)
    expect(read.gap).toEqual({ after: 0, firstId: published[3] })
    expect(ids(read.events)).toEqual(published.slice(3))
  })
})

describe('dedup keys', () => {
  test('a pass forgets keys older than the dedup window', async () => {
    fx = new HubFixture()
    const [first] = await fx.hub.publish('dk.1', [item(1, { key: 'k' })])
    const r = retentionFor(fx, { dedupWindowSeconds: 60 })
    r.pass(first.event!.timeMs + 30_000)
    expect(fx.log.findKey('dk.1', 'k', 0)).toBe(first.event!.id)
    r.pass(first.event!.timeMs + 61_000)
    expect(fx.log.findKey('dk.1', 'k', 0)).toBeUndefined()
    // The event itself stays.
    expect(logIds(fx, 'dk.1')).toEqual([first.event!.id])
  })
})
