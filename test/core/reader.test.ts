import { afterEach, describe, expect, test } from 'bun:test'
import { Filter } from '../../src/core/filter'
import type { PublishResult } from '../../src/core/hub'
import { clockPast, HubFixture, item, publishMany } from '../helpers/hub-fixture'

// Reader: replay from rings and the log, with a real SqliteLog on a temp file.

let fx: HubFixture
afterEach(async () => {
  await fx?.close()
})

const idOf = (r: PublishResult) => (r.duplicate ? r.id : r.event.id)
const ids = (events: readonly { id: number }[]) => events.map((e) => e.id)

describe('Reader.read', () => {
  test('a position never issued gets reset with the last id', async () => {
    fx = await HubFixture.create()
    const [last] = (await publishMany(fx.hub, 'r.1', 2)).slice(-1)
    const read = await fx.hub.read(new Filter(['r.1']), last + 10, 100)
    expect(read).toMatchObject({ events: [], next: last, isDone: true, reset: { after: last + 10, lastId: last } })
  })

  test('at the last id: an empty, done page whose next is that id', async () => {
    fx = await HubFixture.create()
    const [last] = (await publishMany(fx.hub, 'r.1', 2)).slice(-1)
    const read = await fx.hub.read(new Filter(['r.1']), last, 100)
    expect(read).toEqual({ events: [], next: last, isDone: true })
  })

  test('pages through the log (ring too small) with isDone and next, no gap, no duplicate', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 4, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    const published = await publishMany(fx.hub, 'page.1', 11)
    const filter = new Filter(['page.1'])
    const seen: number[] = []
    let position = 0
    let pages = 0
    for (;;) {
      const read = await fx.hub.read(filter, position, 3)
      expect(read.gap).toBeUndefined()
      expect(read.events.length).toBeLessThanOrEqual(3)
      seen.push(...ids(read.events))
      pages++
      if (read.isDone) break
      expect(read.next).toBe(read.events.at(-1)!.id)
      position = read.next
    }
    expect(seen).toEqual(published)
    expect(pages).toBeGreaterThanOrEqual(4)
  })

  test('pages across several streams, some served from rings and some from the log, in id order', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 2, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    const all: number[] = []
    for (let i = 0; i < 12; i++) {
      const stream = ['m.a', 'm.b', 'm.c'][i % 3]
      const [r] = await fx.hub.publish(stream, [item(i)])
      all.push(idOf(r))
    }
    await fx.hub.publish('other', [item('not matched')])
    await fx.hub.configure('m.e', { ephemeral: true })
    const [e] = await fx.hub.publish('m.e', [item('eph')])
    all.push(idOf(e))
    for (const limit of [1, 2, 5, 100]) {
      const seen: number[] = []
      let position = 0
      for (let guard = 0; guard < 100; guard++) {
        const read = await fx.hub.read(new Filter(['m.*']), position, limit)
        seen.push(...ids(read.events))
        if (read.isDone) break
        position = read.next
      }
      expect(seen).toEqual(all)
    }
  })

  test('types and correlationId narrow the read, from rings and from the log alike', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 2, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    const r = await fx.hub.publish('f.1', [item(1, { type: 'a' }), item(2, { type: 'b', correlationId: 'w1' }), item(3, { type: 'a', correlationId: 'w1' }), item(4, { type: 'b' })])
    const [a1, b2, a3, b4] = r.map(idOf)
    expect(ids((await fx.hub.read(new Filter(['f.1'], ['a']), 0, 10)).events)).toEqual([a1, a3])
    expect(ids((await fx.hub.read(new Filter(['f.1'], null, 'w1'), 0, 10)).events)).toEqual([b2, a3])
    expect(ids((await fx.hub.read(new Filter(['f.1'], ['b']), a3, 10)).events)).toEqual([b4])
  })
})

describe('Reader.tail and positionAt', () => {
  test('tail gives the newest events, oldest first, ring or log', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 3, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    const published = await publishMany(fx.hub, 't.1', 8)
    const filter = new Filter(['t.1'])
    expect(ids(await fx.hub.tail(filter, 2))).toEqual(published.slice(-2))
    expect(ids(await fx.hub.tail(filter, 5))).toEqual(published.slice(-5))
    expect(ids(await fx.hub.tail(filter, 100))).toEqual(published)
    expect(await fx.hub.tail(new Filter(['nothing.here']), 5)).toEqual([])
  })

  test('tail before an id: the newest below it, from the ring when it holds enough of them, else from the log', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 3, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false } })
    const published = await publishMany(fx.hub, 'tb.1', 8)
    const filter = new Filter(['tb.1'])
    expect(ids(await fx.hub.tail(filter, 2, published[7]))).toEqual(published.slice(5, 7))
    expect(ids(await fx.hub.tail(filter, 3, published[7]))).toEqual(published.slice(4, 7))
    expect(ids(await fx.hub.tail(filter, 10, published[2]))).toEqual(published.slice(0, 2))
    expect(ids(await fx.hub.tail(filter, 2, published[7] + 100))).toEqual(published.slice(-2))
    expect(await fx.hub.tail(filter, 5, published[0])).toEqual([])
    const r = await fx.hub.publish('tb.2', [item(1, { type: 'a' }), item(2, { type: 'b' }), item(3, { type: 'a' }), item(4, { type: 'b' }), item(5, { type: 'a' })])
    const [a1, , a3, , a5] = r.map(idOf)
    expect(ids(await fx.hub.tail(new Filter(['tb.2'], ['a']), 2, a5))).toEqual([a1, a3])
    expect(ids(await fx.hub.tail(new Filter(['tb.*'], ['a']), 10, a3 + 1))).toEqual([a1, a3])
  })

  test('tail before an id on an ephemeral stream reads its ring', async () => {
    fx = await HubFixture.create({ defaults: { ringSize: 4, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: true } })
    const published = await publishMany(fx.hub, 'te.1', 6)
    expect(ids(await fx.hub.tail(new Filter(['te.1']), 2, published[5]))).toEqual(published.slice(3, 5))
    expect(ids(await fx.hub.tail(new Filter(['te.1']), 10, published[5]))).toEqual(published.slice(2, 5))
  })

  test('tail over a pattern merges streams by id', async () => {
    fx = await HubFixture.create()
    const a = await publishMany(fx.hub, 'tp.a', 3)
    const b = await publishMany(fx.hub, 'tp.b', 3)
    expect(ids(await fx.hub.tail(new Filter(['tp.*']), 4))).toEqual([...a, ...b].slice(-4))
  })

  test('positionAt is just before the first event at or after a time', async () => {
    fx = await HubFixture.create()
    const [first] = await fx.hub.publish('pt.1', [item(1)])
    await clockPast(first.event!.timeMs)
    const [second] = await fx.hub.publish('pt.1', [item(2)])
    const filter = new Filter(['pt.1'])
    expect(await fx.hub.positionAt(filter, first.event!.timeMs)).toBe(idOf(first) - 1)
    expect(await fx.hub.positionAt(filter, second.event!.timeMs)).toBe(idOf(second) - 1)
    // After every event: the current last id (start live).
    expect(await fx.hub.positionAt(filter, second.event!.timeMs + 60_000)).toBe(fx.hub.lastId)
    // A read from that position starts at the matching event.
    expect(ids((await fx.hub.read(filter, await fx.hub.positionAt(filter, second.event!.timeMs), 10)).events)).toEqual([idOf(second)])
  })

  test('positionAt covers ephemeral streams from their ring', async () => {
    fx = await HubFixture.create()
    await fx.hub.configure('pe.1', { ephemeral: true })
    const [first] = await fx.hub.publish('pe.1', [item(1)])
    await clockPast(first.event!.timeMs)
    const [second] = await fx.hub.publish('pe.1', [item(2)])
    expect(await fx.hub.positionAt(new Filter(['pe.1']), second.event!.timeMs)).toBe(idOf(second) - 1)
  })
})
