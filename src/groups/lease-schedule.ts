import { MinHeap } from '../core/min-heap'

/** What the schedule needs of a delivery; `consumer` null means it is not held. */
export interface Scheduled {
  readonly id: number
  consumer: string | null
  deadlineMs: number
  isDead: boolean
}

interface Lease<D> {
  delivery: D
  deadlineMs: number
}

/**
 * When a group's deliveries come due, in O(log n) per change however many are pending: released ones
 * by id (the oldest is handed first), delayed ones and held leases by deadline. Entries a later change
 * made stale are skipped when they surface, and compacted away when they outnumber the live ones.
 */
export class LeaseSchedule<D extends Scheduled> {
  private readonly ready = new MinHeap<D>((a, b) => a.id < b.id)
  private readonly delayed = new MinHeap<Lease<D>>((a, b) => a.deadlineMs < b.deadlineMs)
  private readonly leases = new MinHeap<Lease<D>>((a, b) => a.deadlineMs < b.deadlineMs)
  private compactAt = 1024

  constructor(private readonly isCurrent: (d: D) => boolean) {}

  /** A delivery nobody holds, available from its deadline. */
  released(d: D): void {
    this.delayed.push({ delivery: d, deadlineMs: d.deadlineMs })
  }

  /** A delivery just handed out, or whose deadline moved. */
  held(d: D): void {
    this.leases.push({ delivery: d, deadlineMs: d.deadlineMs })
    // Acked leases stay in the heap until their deadline; once it has doubled, drop them (amortized O(1)).
    if (this.leases.size > this.compactAt) {
      this.leases.retain((l) => this.isHeld(l))
      this.compactAt = Math.max(1024, 2 * this.leases.size)
    }
  }

  /** The oldest released delivery available at `nowMs`, taken off the schedule. */
  takeReady(nowMs: number): D | undefined {
    this.promote(nowMs)
    for (let d = this.ready.pop(); d !== undefined; d = this.ready.pop()) {
      if (this.isCurrent(d) && d.consumer === null && !d.isDead && d.deadlineMs <= nowMs) return d
    }
    return undefined
  }

  /** Held deliveries whose deadline has passed, taken off the schedule. */
  takeExpired(nowMs: number): D[] {
    const out: D[] = []
    for (let top = this.leases.peek(); top !== undefined && top.deadlineMs <= nowMs; top = this.leases.peek()) {
      this.leases.pop()
      if (this.isHeld(top)) out.push(top.delivery)
    }
    return out
  }

  /** The next deadline after `nowMs` of a held lease or a delayed release, or null; what is available already needs no timer. */
  nextDueMs(nowMs: number): number | null {
    this.promote(nowMs)
    while (this.leases.size > 0 && !this.isHeld(this.leases.peek()!)) this.leases.pop()
    while (this.delayed.size > 0 && !this.isWaiting(this.delayed.peek()!)) this.delayed.pop()
    const lease = this.leases.peek()?.deadlineMs
    const release = this.delayed.peek()?.deadlineMs
    if (lease === undefined) return release ?? null
    return release === undefined ? lease : Math.min(lease, release)
  }

  /** Delayed releases whose time has come join the ready ones. */
  private promote(nowMs: number): void {
    for (let top = this.delayed.peek(); top !== undefined && top.deadlineMs <= nowMs; top = this.delayed.peek()) {
      this.delayed.pop()
      if (this.isWaiting(top)) this.ready.push(top.delivery)
    }
  }

  private isHeld(l: Lease<D>): boolean {
    const d = l.delivery
    return this.isCurrent(d) && d.consumer !== null && d.deadlineMs === l.deadlineMs
  }

  private isWaiting(l: Lease<D>): boolean {
    const d = l.delivery
    return this.isCurrent(d) && d.consumer === null && !d.isDead && d.deadlineMs === l.deadlineMs
  }
}
