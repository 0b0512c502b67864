import { afterEach, describe, expect, test } from 'bun:test'
import type { Appended, Change, EventLog, LogRow, Prunable, StoredItem, StreamRecord, Write } from '../../src/core/log'

// The EventLog contract, written once and run against every implementation (as Hono's routers share
// one case file): SqliteLog in test/store/sqlite-log.test.ts, RedisLog in test/store/redis-log.test.ts.

export type TestLog = EventLog & Prunable

export interface LogFactory {
  /** A fresh, empty log. */
  create(): Promise<TestLog>
  /** The same log after a restart (closed, then opened again). */
  reopen(log: TestLog): Promise<TestLog>
  /** Closes what is open and removes what the factory made. */
  cleanup(): Promise<void>
}

const T0 = 1_700_000_000_000
export const record = (name: string, extra: Partial<StreamRecord> = {}): StreamRecord => ({ name, ringSize: null, maxEvents: null, maxAgeSeconds: null, ephemeral: false, closed: false, prunedThrough: 0, ...extra })
export const items = (...data: unknown[]): StoredItem[] => data.map((d) => ({ type: 'message', data: JSON.stringify(d) }))
export const publish = (stream: string, list: StoredItem[], create: StreamRecord | undefined = record(stream)): Write => ({ kind: 'publish', stream, create, items: list })
const ids = (rows: readonly LogRow[]) => rows.map((r) => r.id)
const eventIds = (a: Appended) => a.changes.flatMap((c) => (c.kind === 'event' ? [c.row.id] : []))
const newIds = (a: Appended, i = 0) => {
  const o = a.outcomes[i]
  if (o.kind !== 'published') throw new Error(`outcome ${i} is ${o.kind}`)
  return o.items
}

/** Runs the contract against the logs `factory` makes. */
export function eventLogCases(name: string, factory: LogFactory): void {
  describe(`${name} (EventLog contract)`, () => {
    afterEach(() => factory.cleanup())

    test('opens empty at 0; ids are consecutive within an append and increase across appends and streams', async () => {
      const log = await factory.create()
      expect(await log.open()).toMatchObject({ lastId: 0, streams: [] })
      const a = await log.append([publish('a.1', items(1, 2)), publish('b.1', items(3))], T0, 0)
      expect(eventIds(a)).toEqual([1, 2, 3])
      expect(a.outcomes).toEqual([
        { kind: 'published', items: [{ id: 1, duplicate: false }, { id: 2, duplicate: false }] },
        { kind: 'published', items: [{ id: 3, duplicate: false }] },
      ])
      // A new stream is announced before its first event.
      expect(a.changes.map((c) => c.kind)).toEqual(['stream', 'event', 'event', 'stream', 'event'])
      const b = await log.append([publish('a.1', items(4), undefined)], T0, 0)
      expect(eventIds(b)).toEqual([4])
      expect(await log.head()).toBe(4)
    })

    test('what was appended survives a restart: rows, records, counts and the last id', async () => {
      let log = await factory.create()
      await log.open()
      await log.append([publish('a.1', [{ type: 't', data: '{"x":1}', key: 'k', correlationId: 'c' }, ...items(2)]), publish('b.1', items(3))], T0, 0)
      await log.append([{ kind: 'configure', stream: 'a.1', patch: { maxEvents: 50, ringSize: 8 } }, { kind: 'close', stream: 'a.1' }], T0, 0)
      log = await factory.reopen(log)
      const catalog = await log.open()
      expect(catalog.lastId).toBe(3)
      const byName = Object.fromEntries(catalog.streams.map((s) => [s.record.name, s]))
      expect(byName['a.1']).toEqual({ record: record('a.1', { maxEvents: 50, ringSize: 8, closed: true }), stats: { events: 2, firstId: 1, lastId: 2, firstTimeMs: T0 } })
      expect(byName['b.1'].stats).toEqual({ events: 1, firstId: 3, lastId: 3, firstTimeMs: T0 })
      expect(await log.read(['a.1'], 0, 10, null)).toEqual([
        { id: 1, stream: 'a.1', type: 't', data: '{"x":1}', timeMs: T0, key: 'k', correlationId: 'c' },
        { id: 2, stream: 'a.1', type: 'message', data: '2', timeMs: T0, key: null, correlationId: null },
      ])
      const [next] = eventIds(await log.append([publish('c.1', items(4))], T0, 0))
      expect(next).toBe(4)
    })

    test('a key seen since the dedup bound answers the original id and stores nothing; per stream; within one append too', async () => {
      const log = await factory.create()
      await log.open()
      const keyed = (key: string, d: unknown): StoredItem => ({ type: 'message', data: JSON.stringify(d), key })
      const first = await log.append([publish('d.1', [keyed('k', 1), keyed('k', 2), keyed('j', 3)]), publish('d.2', [keyed('k', 4)])], T0, 0)
      expect(newIds(first, 0)).toEqual([{ id: 1, duplicate: false }, { id: 1, duplicate: true }, { id: 2, duplicate: false }])
      expect(newIds(first, 1)).toEqual([{ id: 3, duplicate: false }])
      const again = await log.append([publish('d.1', [keyed('k', 5)], undefined)], T0 + 1000, T0)
      expect(newIds(again)).toEqual([{ id: 1, duplicate: true }])
      expect(eventIds(again)).toEqual([])
      expect(ids(await log.read(['d.1'], 0, 10, null))).toEqual([1, 2])
      // Past the bound the key is new again.
      expect(newIds(await log.append([publish('d.1', [keyed('k', 6)], undefined)], T0 + 2000, T0 + 1))).toEqual([{ id: 4, duplicate: false }])
    })

    test('close and terminal: a closed stream refuses publishes; closing again is nothing', async () => {
      const log = await factory.create()
      await log.open()
      const a = await log.append([publish('c.1', [{ type: 'done', data: '1', terminal: true }]), publish('c.1', items(2), undefined)], T0, 0)
      expect(a.outcomes[0]).toEqual({ kind: 'published', items: [{ id: 1, duplicate: false }] })
      expect(a.outcomes[1]).toMatchObject({ kind: 'refused', error: { code: 'stream_closed' } })
      expect(a.changes.at(-1)).toEqual({ kind: 'stream', record: record('c.1', { closed: true }) })
      const b = await log.append([{ kind: 'close', stream: 'c.1' }, { kind: 'close', stream: 'c.2', create: record('c.2') }, publish('c.2', items(3), undefined)], T0, 0)
      expect(b.outcomes.map((o) => o.kind)).toEqual(['done', 'done', 'refused'])
      expect(b.changes).toEqual([{ kind: 'stream', record: record('c.2', { closed: true }) }])
      expect(await log.head()).toBe(1)
    })

    test('an ephemeral stream gets ids and changes, and nothing is stored', async () => {
      const log = await factory.create()
      await log.open()
      const a = await log.append([publish('e.1', items(1, 2), record('e.1', { ephemeral: true })), publish('p.1', items(3))], T0, 0)
      expect(eventIds(a)).toEqual([1, 2, 3])
      expect(await log.read(['e.1'], 0, 10, null)).toEqual([])
      expect(await log.get('e.1', [1, 2])).toEqual([])
      expect(await log.head()).toBe(3)
      const catalog = await log.open()
      expect(catalog.streams.find((s) => s.record.name === 'e.1')).toEqual({ record: record('e.1', { ephemeral: true }), stats: { events: 0, firstId: null, lastId: null, firstTimeMs: null } })
    })

    test('configure creates or updates a record; delete removes a stream with its history; ids go on', async () => {
      const log = await factory.create()
      await log.open()
      const a = await log.append([{ kind: 'configure', stream: 'x.1', create: record('x.1'), patch: { ringSize: 4, maxAgeSeconds: 60 } }], T0, 0)
      expect(a.changes).toEqual([{ kind: 'stream', record: record('x.1', { ringSize: 4, maxAgeSeconds: 60 }) }])
      await log.append([publish('x.1', items(1, 2), undefined)], T0, 0)
      const d = await log.append([{ kind: 'delete', stream: 'x.1' }], T0, 0)
      expect(d.changes).toEqual([{ kind: 'delete', stream: 'x.1' }])
      expect(await log.read(['x.1'], 0, 10, null)).toEqual([])
      expect((await log.open()).streams).toEqual([])
      expect(eventIds(await log.append([publish('x.1', items(3))], T0, 0))).toEqual([3])
    })

    test('read, tail, positionAt and get over one and several streams, with type and correlation filters', async () => {
      const log = await factory.create()
      await log.open()
      const row = (type: string, correlationId?: string): StoredItem => ({ type, data: '0', correlationId })
      await log.append([publish('r.a', [row('x', 'w'), row('y')])], T0, 0)
      await log.append([publish('r.b', [row('x'), row('y', 'w')])], T0 + 1000, 0)
      await log.append([publish('r.a', [row('x')], undefined)], T0 + 2000, 0)
      expect(ids(await log.read(['r.a', 'r.b'], 0, 10, null))).toEqual([1, 2, 3, 4, 5])
      expect(ids(await log.read(['r.a', 'r.b'], 2, 2, null))).toEqual([3, 4])
      expect(ids(await log.read(['r.a', 'r.b'], 0, 10, { types: ['x'], correlationId: null }))).toEqual([1, 3, 5])
      expect(ids(await log.read(['r.a', 'r.b'], 0, 10, { types: null, correlationId: 'w' }))).toEqual([1, 4])
      expect(ids(await log.tail(['r.a', 'r.b'], 2, null))).toEqual([4, 5])
      expect(ids(await log.tail(['r.a'], 10, { types: ['x'], correlationId: null }))).toEqual([1, 5])
      // Older pages: the newest below an id, oldest first.
      expect(ids(await log.tail(['r.a'], 1, null, 5))).toEqual([2])
      expect(ids(await log.tail(['r.a', 'r.b'], 2, null, 5))).toEqual([3, 4])
      expect(ids(await log.tail(['r.a', 'r.b'], 10, { types: ['x'], correlationId: null }, 5))).toEqual([1, 3])
      expect(ids(await log.tail(['r.a', 'r.b'], 10, { types: null, correlationId: 'w' }, 4))).toEqual([1])
      expect(ids(await log.tail(['r.a', 'r.b'], 10, null, 99))).toEqual([1, 2, 3, 4, 5])
      expect(await log.tail(['r.a', 'r.b'], 10, null, 1)).toEqual([])
      expect(await log.positionAt(['r.a', 'r.b'], T0 + 1000)).toBe(2)
      expect(await log.positionAt(['r.b'], T0 + 5000)).toBe(5)
      expect(ids(await log.get('r.a', [5, 1, 3]))).toEqual([1, 5])
      expect(await log.read([], 0, 10, null)).toEqual([])
    })

    test('a read over many streams of uneven size pages through them all and returns exactly the first rows by id, either way', async () => {
      const log = await factory.create()
      await log.open()
      // One busy stream among many quiet ones, interleaved: a read must not stop at a short page of any of them.
      const expected: number[] = []
      for (let round = 0; round < 6; round++) {
        const a = await log.append([publish('m.busy', items(...Array.from({ length: 40 }, (_, i) => i)), round === 0 ? record('m.busy') : undefined), ...Array.from({ length: 12 }, (_, s) => publish(`m.q${s}`, [{ type: s % 2 ? 'odd' : 'even', data: '1' }], round === 0 ? record(`m.q${s}`) : undefined))], T0, 0)
        expected.push(...eventIds(a))
      }
      const streams = ['m.busy', ...Array.from({ length: 12 }, (_, s) => `m.q${s}`)]
      expect(ids(await log.read(streams, 0, 100, null))).toEqual(expected.slice(0, 100))
      expect(ids(await log.read(streams, expected[150], 1000, null))).toEqual(expected.filter((id) => id > expected[150]))
      expect(ids(await log.tail(streams, 70, null))).toEqual(expected.slice(-70))
      const odd = await log.read(streams, 0, 20, { types: ['odd'], correlationId: null })
      expect(odd.every((r) => r.type === 'odd')).toBe(true)
      expect(odd).toHaveLength(20)
      expect(ids(odd)).toEqual([...ids(odd)].sort((x, y) => x - y))
    })

    test('a prune counts what is left after a delete and a new stream of the same name in one append', async () => {
      const log = await factory.create()
      await log.open()
      await log.append([publish('c.1', items(1, 2, 3))], T0, 0)
      await log.append([publish('c.1', items(4), undefined), { kind: 'delete', stream: 'c.1' }, publish('c.1', items(5, 6, 7, 8))], T0, 0)
      expect(await log.prune('c.1', 2, 0, 10, Number.MAX_SAFE_INTEGER)).toMatchObject({ removed: 2, stats: { events: 2 } })
    })

    test('prune keeps the newest N and drops what is older than the age bound, never at or above belowId, in batches', async () => {
      let log = await factory.create()
      await log.open()
      await log.append([publish('p.1', items(1, 2, 3))], T0, 0)
      await log.append([publish('p.1', items(4, 5, 6), undefined)], T0 + 10_000, 0)
      const first = (await log.prune('p.1', 4, 0, 1, Number.MAX_SAFE_INTEGER)) as Change & { kind: 'prune' }
      expect(first).toEqual({ kind: 'prune', stream: 'p.1', throughId: 1, removed: 1, stats: { events: 5, firstId: 2, lastId: 6, firstTimeMs: T0 } })
      expect(await log.prune('p.1', 4, 0, 10, Number.MAX_SAFE_INTEGER)).toMatchObject({ throughId: 2, removed: 1 })
      expect(await log.prune('p.1', 4, 0, 10, Number.MAX_SAFE_INTEGER)).toBeNull()
      // Age: everything before T0 + 5 s, but a group still holds id 3.
      expect(await log.prune('p.1', 100, T0 + 5000, 10, 3)).toBeNull()
      expect(await log.prune('p.1', 100, T0 + 5000, 10, 4)).toMatchObject({ throughId: 3, removed: 1, stats: { events: 3, firstId: 4, firstTimeMs: T0 + 10_000 } })
      log = await factory.reopen(log)
      const catalog = await log.open()
      expect(catalog.streams[0]).toEqual({ record: record('p.1', { prunedThrough: 3 }), stats: { events: 3, firstId: 4, lastId: 6, firstTimeMs: T0 + 10_000 } })
      expect(ids(await log.read(['p.1'], 0, 10, null))).toEqual([4, 5, 6])
    })
  })
}
