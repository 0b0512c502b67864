import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { Event } from '../../src/core/event'
import { Ring } from '../../src/core/ring'
import { eventFromRow } from '../../src/core/streams'

const ev = (id: number) => eventFromRow({ id, stream: 's', type: 'message', data: String(id), timeMs: 0, key: null, correlationId: null })
const ids = (events: readonly Event[]) => events.map((e) => e.id)
function filled(capacity: number, eventIds: number[], floor = 0): Ring {
  const ring = new Ring(capacity, floor)
  for (const id of eventIds) ring.push(ev(id))
  return ring
}

describe('Ring', () => {
  test('an empty ring has no events, its floor as lastId and no firstId', () => {
    const ring = new Ring(4, 7)
    expect(ring.size).toBe(0)
    expect(ring.lastId).toBe(7)
    expect(ring.firstId).toBeUndefined()
    expect(ring.since(0)).toEqual([])
    expect(ring.tail(3)).toEqual([])
  })

  test('push keeps events oldest first until capacity, evicting nothing', () => {
    const ring = new Ring(3)
    expect(ring.push(ev(1))).toBeUndefined()
    expect(ring.push(ev(5))).toBeUndefined()
    expect(ring.push(ev(9))).toBeUndefined()
    expect(ring.size).toBe(3)
    expect(ids(ring.tail(Infinity))).toEqual([1, 5, 9])
    expect(ring.firstId).toBe(1)
    expect(ring.lastId).toBe(9)
    expect(ring.floor).toBe(0)
  })

  test('push past capacity evicts the oldest and raises the floor to its id', () => {
    const ring = filled(3, [1, 5, 9])
    expect(ring.push(ev(12))?.id).toBe(1)
    expect(ring.floor).toBe(1)
    expect(ring.push(ev(13))?.id).toBe(5)
    expect(ring.floor).toBe(5)
    expect(ring.size).toBe(3)
    expect(ids(ring.tail(Infinity))).toEqual([9, 12, 13])
    expect(ring.firstId).toBe(9)
  })

  test('wraps around many times and stays ordered', () => {
    const ring = filled(4, Array.from({ length: 103 }, (_, i) => i + 1))
    expect(ids(ring.tail(Infinity))).toEqual([100, 101, 102, 103])
    expect(ring.floor).toBe(99)
    expect(ids(ring.since(101))).toEqual([102, 103])
  })

  describe('covers', () => {
    const ring = filled(3, [2, 4, 6, 8]) // 2 evicted: floor 2
    const rows: [string, number, boolean][] = [
      ['below the floor', 1, false],
      ['at the floor', 2, true],
      ['inside', 5, true],
      ['at the last id', 8, true],
      ['past the last id', 50, true],
    ]
    test.each(rows)('after %s (%d) → %p', (_, after, expected) => {
      expect(ring.covers(after)).toBe(expected)
    })
  })

  describe('since', () => {
    const ring = filled(8, [3, 5, 7, 11, 13])
    const rows: [string, number, number, number[]][] = [
      ['from the start', 0, Infinity, [3, 5, 7, 11, 13]],
      ['after an id it holds', 5, Infinity, [7, 11, 13]],
      ['after an id between two', 8, Infinity, [11, 13]],
      ['after the last', 13, Infinity, []],
      ['past the last', 99, Infinity, []],
      ['with a limit', 0, 2, [3, 5]],
      ['with a limit after a position', 6, 1, [7]],
    ]
    test.each(rows)('%s', (_, after, limit, expected) => {
      expect(ids(ring.since(after, limit))).toEqual(expected)
    })
  })

  describe('tail', () => {
    const ring = filled(4, [1, 2, 3, 4, 5, 6])
    const rows: [string, number, number[]][] = [
      ['fewer than held', 2, [5, 6]],
      ['exactly held', 4, [3, 4, 5, 6]],
      ['more than held', 10, [3, 4, 5, 6]],
      ['zero', 0, []],
    ]
    test.each(rows)('%s', (_, n, expected) => {
      expect(ids(ring.tail(n))).toEqual(expected)
    })
  })

  describe('before', () => {
    const ring = filled(4, [1, 3, 5, 7, 9, 11]) // holds 5, 7, 9, 11
    const rows: [string, number, number, number[]][] = [
      ['past the last', 99, 2, [9, 11]],
      ['at an id it holds', 9, 2, [5, 7]],
      ['between two', 8, 10, [5, 7]],
      ['at the first', 5, 3, []],
      ['below the first', 2, 3, []],
      ['zero of them', 99, 0, []],
    ]
    test.each(rows)('%s', (_, beforeId, n, expected) => {
      expect(ids(ring.before(beforeId, n))).toEqual(expected)
    })
  })

  test('dropThrough removes events up to the id and raises the floor', () => {
    const ring = filled(8, [2, 4, 6, 8])
    ring.dropThrough(5)
    expect(ids(ring.tail(Infinity))).toEqual([6, 8])
    expect(ring.floor).toBe(5)
    expect(ring.covers(4)).toBe(false)
    expect(ring.covers(5)).toBe(true)
    // Pushing after a drop still works and keeps order.
    ring.push(ev(10))
    expect(ids(ring.since(5))).toEqual([6, 8, 10])
  })

  test('dropThrough past every event empties the ring; lastId falls back to the new floor', () => {
    const ring = filled(4, [1, 2, 3])
    ring.dropThrough(3)
    expect(ring.size).toBe(0)
    expect(ring.floor).toBe(3)
    expect(ring.lastId).toBe(3)
  })

  test('dropThrough below the floor never lowers it', () => {
    const ring = filled(2, [1, 2, 3]) // floor 1
    ring.dropThrough(0)
    expect(ring.floor).toBe(1)
    expect(ids(ring.tail(Infinity))).toEqual([2, 3])
  })

  test('dropThrough on a wrapped ring', () => {
    const ring = filled(3, [1, 2, 3, 4, 5]) // holds 3,4,5 with head mid-array
    ring.dropThrough(4)
    expect(ids(ring.tail(Infinity))).toEqual([5])
    ring.push(ev(6))
    ring.push(ev(7))
    expect(ids(ring.tail(Infinity))).toEqual([5, 6, 7])
    expect(ring.push(ev(8))?.id).toBe(5)
  })

  describe('resized', () => {
    test('smaller: keeps the newest events and the floor moves to the last one dropped', () => {
      const ring = filled(5, [10, 20, 30, 40, 50])
      const small = ring.resized(2)
      expect(small.capacity).toBe(2)
      expect(ids(small.tail(Infinity))).toEqual([40, 50])
      expect(small.floor).toBe(30)
      expect(small.covers(29)).toBe(false)
      expect(small.covers(30)).toBe(true)
    })

    test('larger: keeps every event and the floor, and takes more pushes without evicting', () => {
      const ring = filled(2, [1, 2, 3]) // floor 1
      const big = ring.resized(4)
      expect(ids(big.tail(Infinity))).toEqual([2, 3])
      expect(big.floor).toBe(1)
      expect(big.push(ev(4))).toBeUndefined()
      expect(big.push(ev(5))).toBeUndefined()
      expect(big.push(ev(6))?.id).toBe(2)
    })

    test('same size: same events, same floor; the original is untouched', () => {
      const ring = filled(3, [1, 2, 3, 4])
      const copy = ring.resized(3)
      expect(ids(copy.tail(Infinity))).toEqual([2, 3, 4])
      expect(copy.floor).toBe(1)
      copy.push(ev(5))
      expect(ids(ring.tail(Infinity))).toEqual([2, 3, 4])
    })
  })

  describe('growth up to capacity', () => {
    const rows: [string, number, number, number[]][] = [
      ['capacity not a power of two', 9, 20, [12, 13, 14, 15, 16, 17, 18, 19, 20]],
      ['large capacity, partly filled', 1000, 37, Array.from({ length: 37 }, (_, i) => i + 1)],
      ['large capacity, overfilled', 100, 250, Array.from({ length: 100 }, (_, i) => i + 151)],
      ['capacity 1', 1, 3, [3]],
    ]
    test.each(rows)('%s', (_, capacity, n, expected) => {
      const ring = filled(capacity, Array.from({ length: n }, (_, i) => i + 1))
      expect(ids(ring.tail(Infinity))).toEqual(expected)
      expect(ring.size).toBe(expected.length)
      expect(ring.floor).toBe(n > capacity ? n - capacity : 0)
    })

    test('growing while the oldest event is not at the start keeps order', () => {
      const ring = filled(16, [1, 2, 3, 4])
      ring.dropThrough(2) // head moves off slot 0
      for (const id of [5, 6, 7, 8, 9, 10]) ring.push(ev(id))
      expect(ids(ring.tail(Infinity))).toEqual([3, 4, 5, 6, 7, 8, 9, 10])
      expect(ids(ring.since(6))).toEqual([7, 8, 9, 10])
    })
  })

  test('behaves like a plain list under any sequence of push and dropThrough', () => {
    const op = fc.oneof(fc.record({ push: fc.integer({ min: 1, max: 3 }) }), fc.record({ drop: fc.integer({ min: 0, max: 4 }) }))
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const ring = new Ring(capacity)
        let model: number[] = []
        let floor = 0
        let next = 1
        for (const o of ops) {
          if ('push' in o) {
            next += o.push
            const evicted = ring.push(ev(next))
            model.push(next)
            if (model.length > capacity) {
              const gone = model.shift()!
              expect(evicted?.id).toBe(gone)
              floor = gone
            } else expect(evicted).toBeUndefined()
          } else {
            const through = (model[0] ?? next) + o.drop - 1
            ring.dropThrough(through)
            model = model.filter((id) => id > through)
            if (through > floor) floor = through
          }
          expect(ids(ring.tail(Infinity))).toEqual(model)
          expect(ring.floor).toBe(floor)
          expect(ring.lastId).toBe(model.at(-1) ?? floor)
          const after = model[Math.floor(model.length / 2)] ?? 0
          expect(ids(ring.since(after))).toEqual(model.filter((id) => id > after))
        }
        const resized = ring.resized(Math.max(1, Math.floor(capacity / 2)))
        expect(ids(resized.tail(Infinity))).toEqual(model.slice(-resized.capacity))
      }),
      { numRuns: 300 },
    )
  })
})
