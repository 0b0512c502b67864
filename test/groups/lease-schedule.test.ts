import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { LeaseSchedule, type Scheduled } from '../../src/groups/lease-schedule'
import { MinHeap } from '../../src/core/min-heap'

test('MinHeap pops in order whatever was pushed, and retain keeps exactly what it accepts', () => {
  fc.assert(
    fc.property(fc.array(fc.integer()), (values) => {
      const heap = new MinHeap<number>((a, b) => a < b)
      for (const v of values) heap.push(v)
      heap.retain((v) => v % 3 !== 0)
      const out: number[] = []
      for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v)
      expect(out).toEqual(values.filter((v) => v % 3 !== 0).sort((a, b) => a - b))
    }),
  )
})

// The schedule against the scan it replaces: any sequence of hand-outs, releases, extends and acks.
test('LeaseSchedule finds what a scan of every pending delivery finds', () => {
  type Op = { kind: 'hand' | 'release' | 'extend' | 'ack' | 'tick'; id: number; at: number }
  const op = fc.record({ kind: fc.constantFrom('hand', 'release', 'extend', 'ack', 'tick'), id: fc.integer({ min: 1, max: 30 }), at: fc.integer({ min: 0, max: 50 }) })
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }) as fc.Arbitrary<Op[]>, (ops) => {
      const pending = new Map<number, Scheduled>()
      const schedule = new LeaseSchedule<Scheduled>((d) => pending.get(d.id) === d)
      let now = 0
      for (const { kind, id, at } of ops) {
        now += at % 5
        let d = pending.get(id)
        if (kind === 'tick') {
          const expired = schedule.takeExpired(now).map((x) => x.id).sort((a, b) => a - b)
          const scan = [...pending.values()].filter((x) => x.consumer !== null && x.deadlineMs <= now).map((x) => x.id).sort((a, b) => a - b)
          expect(expired).toEqual(scan)
          for (const x of expired) {
            pending.get(x)!.consumer = null
            schedule.released(pending.get(x)!)
          }
          continue
        }
        if (kind === 'hand') {
          const ready = [...pending.values()].filter((x) => x.consumer === null && x.deadlineMs <= now).map((x) => x.id).sort((a, b) => a - b)
          const taken = schedule.takeReady(now)
          expect(taken?.id).toBe(ready[0])
          d = taken ?? (pending.has(id) ? undefined : { id, consumer: null, deadlineMs: now, isDead: false })
          if (!d) continue
          pending.set(d.id, d)
          d.consumer = 'c'
          d.deadlineMs = now + 10
          schedule.held(d)
        } else if (d && kind === 'release' && d.consumer !== null) {
          d.consumer = null
          d.deadlineMs = now + (at % 7)
          schedule.released(d)
        } else if (d && kind === 'extend' && d.consumer !== null) {
          d.deadlineMs = now + 10
          schedule.held(d)
        } else if (d && kind === 'ack') pending.delete(id)
      }
      // Held leases count whatever their deadline (expiry takes them); a release counts only while still delayed.
      const future = [...pending.values()].filter((x) => x.consumer !== null || x.deadlineMs > now).map((x) => x.deadlineMs)
      expect(schedule.nextDueMs(now)).toBe(future.length > 0 ? Math.min(...future) : null)
    }),
  )
})
