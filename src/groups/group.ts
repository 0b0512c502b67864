import type { Event } from '../core/event'
import { Filter } from '../core/filter'
import type { ReadResult } from '../core/reader'
import type { DeliveryRecord, GroupConfig, GroupCounters, GroupRecord, GroupWrite } from './group-log'
import { LeaseSchedule } from './lease-schedule'

/** A push consumer's share of the leases: its held ids are its used credit. */
export interface Holder {
  readonly held: Set<number>
}

/** One event the group has read and not yet settled, with its lease. */
export class Delivery implements DeliveryRecord {
  holder: Holder | null = null

  constructor(
    readonly event: Event,
    public consumer: string | null,
    public attempt: number,
    public deadlineMs: number,
    public reason: string | null = null,
    public isDead = false,
  ) {}

  get id(): number {
    return this.event.id
  }

  get stream(): string {
    return this.event.stream
  }
}

/** ids taken by an ack/nack/extend/term, and ids the consumer did not hold (reported, never taken). */
export interface Settled {
  ok: number[]
  notHeld: number[]
}

/** Reads matching events with id > after, at most n (the hub's Reader). */
export type ReadFn = (filter: Filter, after: number, n: number) => ReadResult

// Under ordering "stream", events read past busy streams wait in memory (and in SQLite); this bounds them.
const MAX_BUFFERED = 2000
const PAGE = 500

/**
 * One group's state: config, cursor, and every read-but-unsettled event in id order.
 * At most one holder per event; every change is recorded for the next `drain()` to persist.
 */
export class Group {
  /** Unsettled events by id; Map order is id order (the cursor only grows; loads are sorted). */
  readonly pending = new Map<number, Delivery>()
  readonly consumers = new Map<string, number>()
  readonly dlqStream: string
  filter: Filter
  /** Matching events after the cursor, counted once known (null until first asked). */
  unread: number | null = null
  /** Unsettled ids by stream, in id order (added in increasing order): the first is what retention must keep. */
  private readonly perStream = new Map<string, Set<number>>()
  private schedule = this.newSchedule()
  // Read-ahead: matching events after the cursor, not yet taken (memory only; the cursor is what is persisted).
  private ahead: Event[] = []
  private aheadAt = 0
  private aheadNext = 0
  private readonly upserts = new Set<Delivery>()
  private readonly removes = new Set<number>()
  private isDirty = false
  private readonly ackBuckets = new Array<number>(10).fill(0)
  private ackSecond = 0

  constructor(
    readonly name: string,
    public config: GroupConfig,
    public cursor: number,
    readonly counters: GroupCounters,
  ) {
    this.dlqStream = `dlq.${name}`
    this.filter = new Filter(config.streams, config.types)
  }

  record(): GroupRecord {
    return { name: this.name, config: this.config, cursor: this.cursor, counters: this.counters }
  }

  reconfigure(config: GroupConfig): void {
    const wasOrdered = this.isOrdered
    this.config = config
    this.filter = new Filter(config.streams, config.types)
    this.unread = null
    this.ahead = []
    if (wasOrdered !== this.isOrdered) {
      this.schedule = this.newSchedule()
      for (const d of this.pending.values()) this.scheduled(d)
    }
  }

  /** Adds a loaded delivery (at start-up), in id order. */
  restore(d: Delivery): void {
    this.add(d)
    this.scheduled(d)
  }

  touch(consumer: string, nowMs: number): void {
    this.consumers.set(consumer, nowMs)
  }

  /**
   * Hands up to `n` events to `consumer`: released ones first (oldest first), then new ones from the cursor.
   * Under ordering "stream" only the oldest unsettled event of a stream is handed, and only when none of it is held.
   */
  take(n: number, consumer: string, holder: Holder | null, nowMs: number, read: ReadFn): Delivery[] {
    const out: Delivery[] = []
    const isOrdered = this.isOrdered
    if (isOrdered) {
      // Bounded by MAX_BUFFERED: the scan finds each stream's oldest unsettled event.
      const heads = new Set<string>()
      for (const d of this.pending.values()) {
        if (out.length >= n) break
        if (heads.has(d.stream)) continue
        heads.add(d.stream)
        if (d.consumer === null && !d.isDead && d.deadlineMs <= nowMs) out.push(this.hand(d, consumer, holder, nowMs))
      }
    } else {
      while (out.length < n) {
        const d = this.schedule.takeReady(nowMs)
        if (!d) break
        out.push(this.hand(d, consumer, holder, nowMs))
      }
    }
    while (out.length < n && !(isOrdered && this.pending.size >= MAX_BUFFERED)) {
      const event = this.nextEvent(read, nowMs)
      if (!event) break
      const isBlocked = isOrdered && (this.perStream.get(event.stream)?.size ?? 0) > 0
      const d = new Delivery(event, null, 0, nowMs)
      this.add(d)
      if (!isBlocked) out.push(this.hand(d, consumer, holder, nowMs))
    }
    return out
  }

  /** The next unread matching event, moving the cursor past it; pages are read ahead into memory. */
  private nextEvent(read: ReadFn, nowMs: number): Event | undefined {
    while (this.ahead.length === 0) {
      const page = read(this.filter, this.cursor, PAGE)
      if (page.gap && page.gap.firstId !== this.counters.lastGap?.firstId) {
        this.counters.gaps++
        this.counters.lastGap = { ...page.gap, timeMs: nowMs }
      }
      this.ahead = page.events.filter((e) => e.stream !== this.dlqStream)
      this.aheadAt = 0
      this.aheadNext = page.reset ? page.reset.lastId : page.next
      if (this.unread !== null && page.isDone) this.unread = this.ahead.length
      if (this.ahead.length === 0) {
        // Nothing matching up to `next`: the cursor may skip there.
        this.isDirty ||= this.cursor !== this.aheadNext
        this.cursor = this.aheadNext
        if (page.isDone) return undefined
      }
    }
    const event = this.ahead[this.aheadAt++]
    if (this.aheadAt >= this.ahead.length) {
      this.ahead = []
      // The whole page is taken: everything up to its `next` has been read.
      this.cursor = this.aheadNext
    } else this.cursor = event.id
    if (this.unread !== null) this.unread = Math.max(0, this.unread - 1)
    this.isDirty = true
    return event
  }

  /** Settles held ids; `consumer` null takes ids held by anyone. */
  ack(consumer: string | null, ids: readonly number[], nowMs: number): Settled {
    const settled = this.held(consumer, ids)
    for (const id of settled.ok) this.remove(this.pending.get(id)!)
    this.counters.acks += settled.ok.length
    this.countAcks(settled.ok.length, nowMs)
    return settled
  }

  /** Releases held ids for redelivery at `availableAtMs`; those at their last attempt go to `dead`. */
  nack(consumer: string | null, ids: readonly number[], availableAtMs: number, dead: Delivery[]): Settled {
    const settled = this.held(consumer, ids)
    for (const id of settled.ok) this.release(this.pending.get(id)!, availableAtMs, 'nacked', dead)
    return settled
  }

  extend(consumer: string | null, ids: readonly number[], nowMs: number): Settled {
    const settled = this.held(consumer, ids)
    for (const id of settled.ok) {
      const d = this.pending.get(id)!
      d.deadlineMs = nowMs + this.config.ackTimeoutSec * 1000
      this.schedule.held(d)
      this.dirty(d)
    }
    return settled
  }

  term(consumer: string | null, ids: readonly number[], reason: string, dead: Delivery[]): Settled {
    const settled = this.held(consumer, ids)
    for (const id of settled.ok) {
      const d = this.pending.get(id)!
      this.unhold(d)
      d.reason = reason
      this.kill(d, dead)
    }
    return settled
  }

  /** Leases past their deadline come back (attempt counted); returns how many were released. */
  expire(nowMs: number, dead: Delivery[]): number {
    const expired = this.schedule.takeExpired(nowMs)
    for (const d of expired) this.release(d, nowMs, 'ack deadline passed', dead)
    return expired.length
  }

  /** A push consumer went away: its leases come back at once. */
  releaseHolder(holder: Holder, nowMs: number, dead: Delivery[]): number {
    const ids = [...holder.held]
    for (const id of ids) {
      const d = this.pending.get(id)
      if (d && d.holder === holder) this.release(d, nowMs, 'consumer disconnected', dead)
    }
    holder.held.clear()
    return ids.length
  }

  /** The dead letter is committed to the DLQ stream: the event is settled. */
  deadLettered(d: Delivery): void {
    if (this.pending.get(d.id) !== d) return
    this.remove(d)
    this.counters.deadLetters++
  }

  /** When the timer must next look: the earliest lease deadline or delayed release. */
  nextDueMs(nowMs: number): number | null {
    let next = this.schedule.nextDueMs(nowMs)
    if (!this.isOrdered) return next
    // Ordered groups keep at most MAX_BUFFERED pending: their delayed releases are found by a scan.
    for (const d of this.pending.values()) {
      if (d.isDead || d.consumer !== null || d.deadlineMs <= nowMs) continue
      if (next === null || d.deadlineMs < next) next = d.deadlineMs
    }
    return next
  }

  /** Smallest unsettled id of a stream: retention keeps it and everything after. */
  heldFrom(stream: string): number | undefined {
    for (const id of this.perStream.get(stream) ?? []) return id
    return undefined
  }

  /** Counts a committed event for lag if the group has not read it yet. */
  published(event: Event): void {
    if (this.unread !== null && event.id > this.cursor && event.stream !== this.dlqStream) this.unread++
  }

  ackRate(nowMs: number): number {
    this.countAcks(0, nowMs)
    let sum = 0
    for (const n of this.ackBuckets) sum += n
    return sum / this.ackBuckets.length
  }

  /** What changed since the last drain, to persist in one transaction; null when nothing did. */
  drain(): GroupWrite | null {
    if (!this.isDirty) return null
    const change: GroupWrite = { group: this.name, cursor: this.cursor, counters: this.counters, upsert: [...this.upserts].map(recordOf), remove: [...this.removes] }
    this.upserts.clear()
    this.removes.clear()
    this.isDirty = false
    return change
  }

  private hand(d: Delivery, consumer: string, holder: Holder | null, nowMs: number): Delivery {
    d.attempt++
    if (d.attempt > 1) this.counters.redeliveries++
    d.consumer = consumer
    d.holder = holder
    holder?.held.add(d.id)
    d.deadlineMs = nowMs + this.config.ackTimeoutSec * 1000
    this.schedule.held(d)
    this.dirty(d)
    return d
  }

  private held(consumer: string | null, ids: readonly number[]): Settled {
    const ok: number[] = []
    const notHeld: number[] = []
    for (const id of new Set(ids)) {
      const d = this.pending.get(id)
      if (d && d.consumer !== null && (consumer === null || d.consumer === consumer)) ok.push(id)
      else notHeld.push(id)
    }
    return { ok, notHeld }
  }

  private release(d: Delivery, availableAtMs: number, reason: string, dead: Delivery[]): void {
    this.unhold(d)
    d.reason = reason
    if (d.attempt >= this.config.maxDeliveries) return this.kill(d, dead)
    d.deadlineMs = availableAtMs
    this.scheduled(d)
    this.dirty(d)
  }

  private kill(d: Delivery, dead: Delivery[]): void {
    d.isDead = true
    this.dirty(d)
    dead.push(d)
  }

  private unhold(d: Delivery): void {
    d.holder?.held.delete(d.id)
    d.holder = null
    d.consumer = null
  }

  private get isOrdered(): boolean {
    return this.config.ordering === 'stream'
  }

  private newSchedule(): LeaseSchedule<Delivery> {
    return new LeaseSchedule<Delivery>((d) => this.pending.get(d.id) === d)
  }

  /** Puts a delivery on the schedule its state asks for: its lease, or (unordered) its next delivery. */
  private scheduled(d: Delivery): void {
    if (d.consumer !== null) this.schedule.held(d)
    else if (!d.isDead && !this.isOrdered) this.schedule.released(d)
  }

  private add(d: Delivery): void {
    this.pending.set(d.id, d)
    let ids = this.perStream.get(d.stream)
    if (!ids) this.perStream.set(d.stream, (ids = new Set()))
    ids.add(d.id)
    this.dirty(d)
  }

  private remove(d: Delivery): void {
    this.unhold(d)
    this.pending.delete(d.id)
    const ids = this.perStream.get(d.stream)
    ids?.delete(d.id)
    if (ids?.size === 0) this.perStream.delete(d.stream)
    this.upserts.delete(d)
    this.removes.add(d.id)
    this.isDirty = true
  }

  private dirty(d: Delivery): void {
    this.upserts.add(d)
    this.removes.delete(d.id)
    this.isDirty = true
  }

  private countAcks(n: number, nowMs: number): void {
    const second = Math.floor(nowMs / 1000)
    if (second !== this.ackSecond) {
      const steps = Math.min(second - this.ackSecond, this.ackBuckets.length)
      for (let i = 1; i <= steps; i++) this.ackBuckets[(this.ackSecond + i) % this.ackBuckets.length] = 0
      this.ackSecond = second
    }
    this.ackBuckets[second % this.ackBuckets.length] += n
  }
}

function recordOf(d: Delivery): DeliveryRecord {
  return { id: d.id, stream: d.stream, consumer: d.consumer, attempt: d.attempt, deadlineMs: d.deadlineMs, reason: d.reason, isDead: d.isDead }
}
