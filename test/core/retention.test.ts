import { afterEach, describe, expect, test } from 'bun:test'
import { Filter, Selector } from '../../src/core/filter'
import type { RetentionOptions } from '../../src/core/retention'
import { clockPast, HubFixture, item, publishMany, RecordingSubscriber, until } from '../helpers/hub-fixture'

let fx: HubFixture
afterEach(async () => {
  await fx?.close()
})

const ids = (events: readonly { id: number }[]) => events.map((e) => e.id)
/** Retention on the fixture's hub, passes run by hand (the timer is an hour) unless `intervalMs` says otherwise. */
function retentionFor(fx: HubFixture, options: Partial<RetentionOptions> = {}, pruned: number[] = [], intervalMs = 3_600_000) {
  fx.hub.hooks.pruned = (n) => pruned.push(n)
  fx.hub.startRetention({ ringIdleMs: 60_000, batch: 5000, ...options }, intervalMs)
  return { pass: (nowMs?: number) => fx.hub.prune(nowMs) }
}
const logIds = async (fx: HubFixture, stream: string) => (await fx.log.read([stream], 0, 10_000, null)).map((r) => r.id)
const read = async (fx: HubFixture, stream: string, after: number) => fx.hub.read(new Filter([stream]), after, 100)

describe('max events', () => {
  test('one pass brings a stream back to its newest maxEvents, in the log, the ring and the stats', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('r.1', { maxEvents: 5 })
    const published = await publishMany(fx.hub, 'r.1', 12)
    const kept = published.slice(-5)
    const pruned: number[] = []
    expect(await retentionFor(fx, {}, pruned).pass()).toBe(7)
    expect(pruned).toEqual([7])
    expect(await logIds(fx, 'r.1')).toEqual(kept)
    const state = fx.hub.stream('r.1')!
    expect(state).toMatchObject({ events: 5, firstId: kept[0], lastId: kept[4] })
    expect(state.record.prunedThrough).toBe(published[6])
    // Pruned events left the ring too: a read the ring answers has only what was kept.
    expect(fx.hub.stats().rings).toBe(1)
    expect(ids((await read(fx, 'r.1', published[6])).events)).toEqual(kept)
    // A second pass finds nothing to do.
    expect(await fx.hub.prune()).toBe(0)
  })

  test('a read from before the prune reports the gap, then replays what is left', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('r.2', { maxEvents: 3 })
    const published = await publishMany(fx.hub, 'r.2', 8)
    await retentionFor(fx).pass()
    for (const after of [0, published[0], published[4] - 1]) {
      const page = await read(fx, 'r.2', after)
      expect(page.gap).toEqual({ after, firstId: published[5] })
      expect(ids(page.events)).toEqual(published.slice(5))
    }
    // From the last pruned id on, there is no gap.
    const clean = await read(fx, 'r.2', published[4])
    expect(clean.gap).toBeUndefined()
    expect(ids(clean.events)).toEqual(published.slice(5))
  })

  test('the prune and its gap survive a restart', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('r.3', { maxEvents: 2 })
    const published = await publishMany(fx.hub, 'r.3', 5)
    await retentionFor(fx).pass()
    const hub = await fx.reopen()
    const page = await hub.read(new Filter(['r.3']), 0, 100)
    expect(page.gap).toEqual({ after: 0, firstId: published[3] })
    expect(ids(page.events)).toEqual(published.slice(3))
    expect(hub.stream('r.3')!.events).toBe(2)
  })

  test('works in batches: each pass removes at most `batch` events, over all streams', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('b.1', { maxEvents: 2 })
    await fx.hub.configure('b.2', { maxEvents: 2 })
    await publishMany(fx.hub, 'b.1', 7)
    await publishMany(fx.hub, 'b.2', 6)
    const r = retentionFor(fx, { batch: 3 })
    const removed: number[] = []
    for (let n = await r.pass(); n > 0; n = await r.pass()) removed.push(n)
    expect(removed.every((n) => n <= 3)).toBe(true)
    expect(removed.reduce((a, b) => a + b, 0)).toBe(5 + 4)
    expect((await logIds(fx, 'b.1')).length).toBe(2)
    expect((await logIds(fx, 'b.2')).length).toBe(2)
  })

  test('the background timer brings a stream within limits on its own', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('bg.1', { maxEvents: 4 })
    await publishMany(fx.hub, 'bg.1', 20)
    retentionFor(fx, { batch: 5 }, [], 10)
    await until(() => fx.hub.stream('bg.1')!.events === 4, 3000, 'retention to catch up')
    expect((await logIds(fx, 'bg.1')).length).toBe(4)
  })
})

describe('events held by a consumer group', () => {
  test('survive retention until released, then go on the next pass', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('held.1', { maxEvents: 2 })
    const published = await publishMany(fx.hub, 'held.1', 8)
    let heldFrom: number | undefined = published[3]
    const r = retentionFor(fx, { heldFrom: (stream) => (stream === 'held.1' ? heldFrom : undefined) })
    expect(await r.pass()).toBe(3)
    expect(await logIds(fx, 'held.1')).toEqual(published.slice(3))
    const page = await read(fx, 'held.1', 0)
    expect(page.gap).toEqual({ after: 0, firstId: published[3] })
    expect(ids(page.events)).toEqual(published.slice(3))
    heldFrom = undefined
    expect(await r.pass()).toBe(3)
    expect(await logIds(fx, 'held.1')).toEqual(published.slice(6))
    expect(fx.hub.stream('held.1')!.events).toBe(2)
  })
})

describe('max age', () => {
  test('events older than maxAgeSeconds go; newer ones stay', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('age.1', { maxAgeSeconds: 1 })
    const old = await fx.hub.publish('age.1', [item(1), item(2)])
    await clockPast(old[0].event!.timeMs)
    const [fresh] = await fx.hub.publish('age.1', [item(3)])
    // At fresh's time + 1 s, everything before fresh is past the age bound.
    expect(await retentionFor(fx).pass(fresh.event!.timeMs + 1000)).toBe(2)
    expect(await logIds(fx, 'age.1')).toEqual([fresh.event!.id])
    const page = await read(fx, 'age.1', 0)
    expect(page.gap).toEqual({ after: 0, firstId: fresh.event!.id })
    expect(ids(page.events)).toEqual([fresh.event!.id])
  })

  test('a stream whose every event expired is empty; a read reports a gap past the last id', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('age.2', { maxAgeSeconds: 1 })
    const published = await publishMany(fx.hub, 'age.2', 3)
    await retentionFor(fx).pass(Date.now() + 5000)
    expect(fx.hub.stream('age.2')).toMatchObject({ events: 0, firstId: null })
    const page = await read(fx, 'age.2', 0)
    expect(page.events).toEqual([])
    expect(page.gap).toEqual({ after: 0, firstId: published[2] + 1 })
  })
})

describe('ephemeral streams', () => {
  test('are trimmed in their ring by max events, and a read from before reports the gap', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('eph.1', { ephemeral: true, maxEvents: 3 })
    const published = await publishMany(fx.hub, 'eph.1', 8)
    expect(await retentionFor(fx).pass()).toBe(5)
    const state = fx.hub.stream('eph.1')!
    expect(state).toMatchObject({ events: 3, firstId: published[5] })
    expect(state.record.prunedThrough).toBe(published[4])
    const page = await read(fx, 'eph.1', 0)
    expect(page.gap).toEqual({ after: 0, firstId: published[5] })
    expect(ids(page.events)).toEqual(published.slice(-3))
  })

  test('are trimmed by age', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('eph.2', { ephemeral: true, maxAgeSeconds: 1 })
    const old = await fx.hub.publish('eph.2', [item(1), item(2)])
    await clockPast(old[1].event!.timeMs)
    const [fresh] = await fx.hub.publish('eph.2', [item('fresh')])
    expect(await retentionFor(fx).pass(fresh.event!.timeMs + 1000)).toBe(old.length)
    expect(ids((await read(fx, 'eph.2', 0)).events)).toEqual([fresh.event!.id])
  })

  test('are never evicted as idle: the ring is all they have', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('eph.3', { ephemeral: true })
    const published = await publishMany(fx.hub, 'eph.3', 3)
    await retentionFor(fx, { ringIdleMs: 0 }).pass(Date.now() + 3_600_000)
    expect(ids((await read(fx, 'eph.3', 0)).events)).toEqual(published)
  })
})

describe('idle rings', () => {
  test('an idle ring is evicted and rebuilt from the log with the same events', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 4, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    const published = await publishMany(fx.hub, 'idle.1', 10)
    const filter = new Filter(['idle.1'])
    const positions = [0, published[3], published[6], published[8], published[9]]
    const readAll = async () => Promise.all(positions.map(async (p) => ids((await fx.hub.read(filter, p, 100)).events)))
    const before = await readAll()
    const tailBefore = ids(await fx.hub.tail(filter, 3))
    expect(fx.hub.stats().rings).toBe(1)

    await retentionFor(fx, { ringIdleMs: 1000 }).pass(Date.now() + 2000)
    expect(fx.hub.stats().rings).toBe(0)

    expect(await readAll()).toEqual(before)
    expect(ids(await fx.hub.tail(filter, 3))).toEqual(tailBefore)
    // A new event rebuilds the ring from the log, with the ring size's worth of events, itself included.
    const [next] = await fx.hub.publish('idle.1', [item('next')])
    await until(() => fx.hub.stats().rings === 1, 2000, 'the ring to be rebuilt')
    expect(fx.hub.stats().ringEvents).toBe(4)
    expect(ids((await fx.hub.read(filter, published[9], 10)).events)).toEqual([next.event!.id])
    expect(ids((await fx.hub.read(filter, published[6], 10)).events)).toEqual([...published.slice(7), next.event!.id])
  })

  test('a ring with a live subscriber, or touched recently, is kept', async () => {
    fx = await HubFixture.create()
    await publishMany(fx.hub, 'idle.2', 2)
    await publishMany(fx.hub, 'idle.3', 2)
    fx.hub.subscribe(new Selector([new Filter(['idle.2'])]), new RecordingSubscriber())
    const r = retentionFor(fx, { ringIdleMs: 1000 })
    await r.pass(Date.now())
    expect(fx.hub.stats().rings).toBe(2)
    await r.pass(Date.now() + 2000)
    expect(fx.hub.stats().rings).toBe(1)
    expect(fx.hub.stats().ringEvents).toBe(2)
  })

  test('eviction after a prune: the rebuilt ring still knows where history starts', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 8, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    await fx.hub.configure('idle.4', { maxEvents: 3 })
    const published = await publishMany(fx.hub, 'idle.4', 6)
    await retentionFor(fx, { ringIdleMs: 1000 }).pass(Date.now() + 2000)
    expect(fx.hub.stats().rings).toBe(0)
    const page = await read(fx, 'idle.4', 0)
    expect(page.gap).toEqual({ after: 0, firstId: published[3] })
    expect(ids(page.events)).toEqual(published.slice(3))
  })
})

describe('dedup keys', () => {
  test('a sweep, once a minute, forgets keys older than the dedup window', async () => {
    fx = await HubFixture.create({ dedupWindowSeconds: 60 })
    const [first] = await fx.hub.publish('dk.1', [item(1, { key: 'k' })])
    const keys = () => (fx.log.db.query('SELECT count(*) AS n FROM dedup_keys').get() as { n: number }).n
    const r = retentionFor(fx)
    await r.pass(first.event!.timeMs + 30_000)
    expect(keys()).toBe(1)
    // Past the window but within a minute of the last sweep: not yet.
    await r.pass(first.event!.timeMs + 61_000)
    expect(keys()).toBe(1)
    await r.pass(first.event!.timeMs + 91_000)
    expect(keys()).toBe(0)
    // The event itself stays.
    expect(await logIds(fx, 'dk.1')).toEqual([first.event!.id])
  })
})
