import type { Event } from './event'

/**
 * The most recent events of one stream, oldest first, in a fixed-capacity circle.
 * `floor` is the position it covers from: every event of the stream with an id above
 * `floor` that still exists is in the ring, so a replay after `floor` or later never needs the log.
 */
export class Ring {
  // Grows by doubling up to capacity: a quiet stream's ring costs a few slots, not `capacity` of them.
  private slots: (Event | undefined)[]
  private head = 0 // index of the oldest event
  private count = 0
  floor: number

  constructor(
    readonly capacity: number,
    floor = 0,
  ) {
    this.slots = new Array(Math.min(4, capacity))
    this.floor = floor
  }

  get size(): number {
    return this.count
  }

  get lastId(): number {
    return this.count === 0 ? this.floor : this.at(this.count - 1).id
  }

  get firstId(): number | undefined {
    return this.count === 0 ? undefined : this.at(0).id
  }

  /** Appends an event with an id above every id already held; returns the one pushed out, if any. */
  push(event: Event): Event | undefined {
    if (this.count === this.slots.length && this.count < this.capacity) this.grow()
    if (this.count < this.capacity) {
      this.slots[(this.head + this.count) % this.slots.length] = event
      this.count++
      return undefined
    }
    const evicted = this.slots[this.head]!
    this.slots[this.head] = event
    this.head = (this.head + 1) % this.slots.length
    this.floor = evicted.id
    return evicted
  }

  /** Whether the ring alone can answer "everything after `afterId`". */
  covers(afterId: number): boolean {
    return afterId >= this.floor
  }

  /** Events with id > afterId, oldest first, at most `limit`. Only meaningful when covers(afterId). */
  since(afterId: number, limit = Infinity): Event[] {
    const out: Event[] = []
    let lo = 0
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.at(mid).id <= afterId) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < this.count && out.length < limit; i++) out.push(this.at(i))
    return out
  }

  /** The newest `n` events, oldest first. */
  tail(n: number): Event[] {
    const out: Event[] = []
    for (let i = Math.max(0, this.count - n); i < this.count; i++) out.push(this.at(i))
    return out
  }

  /** The newest `n` events with id < beforeId, oldest first. */
  before(beforeId: number, n: number): Event[] {
    let end = this.count
    while (end > 0 && this.at(end - 1).id >= beforeId) end--
    const out: Event[] = []
    for (let i = Math.max(0, end - n); i < end; i++) out.push(this.at(i))
    return out
  }

  /** Drops every event with id <= id (retention pruned them). */
  dropThrough(id: number): void {
    while (this.count > 0 && this.at(0).id <= id) {
      this.slots[this.head] = undefined
      this.head = (this.head + 1) % this.slots.length
      this.count--
    }
    if (id > this.floor) this.floor = id
  }

  /** A new ring of another capacity holding the newest events of this one. */
  resized(capacity: number): Ring {
    const ring = new Ring(capacity, this.floor)
    for (const e of this.tail(capacity)) ring.push(e)
    if (this.count > capacity) ring.floor = this.at(this.count - capacity - 1).id
    return ring
  }

  private at(i: number): Event {
    return this.slots[(this.head + i) % this.slots.length]!
  }

  private grow(): void {
    const slots: (Event | undefined)[] = new Array(Math.min(this.slots.length * 2, this.capacity))
    for (let i = 0; i < this.count; i++) slots[i] = this.at(i)
    this.slots = slots
    this.head = 0
  }
}
