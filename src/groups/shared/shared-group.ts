import type { RingcastError } from '../../core/errors'
import type { Event } from '../../core/event'
import type { Feed, Subscriber } from '../../core/feed'
import { Filter, Selector } from '../../core/filter'
import type { Hub } from '../../core/hub'
import type { Claimed, PushHandle } from '../consumer-groups'
import type { GroupConfig } from '../group-log'
import { refusals } from '../live'
import { park } from '../park'
import type { HandedOut, SettleOp, SharedGroupStore, StoredGroup, Upkeep } from './group-store'
import { Pusher, type Waiter } from './node-consumers'
import { type Ahead, eventsOf, ReadAhead } from './read-ahead'
import { UnreadCount } from './unread'
import { UpkeepTimer } from './upkeep-timer'

/** What a group's keeper on this node shares with the others. */
export interface SharedContext {
  readonly hub: Hub
  readonly store: SharedGroupStore
  /** Publishes the letters of what the store found dead, then settles them there. */
  bury(group: SharedGroup, dead: readonly HandedOut[]): Promise<void>
  /** The store says the group is gone (or another incarnation): this keeper must go. */
  gone(group: SharedGroup): void
  /** Reads the group's config again (the store answered with another version). */
  refresh(name: string): Promise<unknown>
  /** Keeps a background operation so that a stop waits for it. */
  track(work: Promise<unknown>): void
  onError(message: string, error: unknown): void
  isStopped(): boolean
  nextRotation(): number
}

/** New events a claim proposes, read after `from` (where the node expects the group's cursor to be). */
interface Offer extends Ahead {
  from: number
}

// Claim rounds when other nodes keep moving the cursor; after that the claim answers with what it has.
const MAX_ROUNDS = 6
// Under ordering "stream" a claim proposes this many more events than it may hand out (they wait behind their streams).
const ORDERED_EXTRA = 32

/**
 * One shared group as this node keeps it: its config, the page of events it proposes, its waiting
 * claims and push consumers, and a timer. The store decides every lease; this node wakes its
 * consumers on events it applies, on other nodes' signals, and when a lease or delayed release is due.
 */
export class SharedGroup {
  config: GroupConfig
  version: string
  filter: Filter
  readonly dlqStream: string
  /** Where the group's cursor will be once the claims this node sent are taken. */
  cursor = 0
  readonly unread: UnreadCount
  private readonly waiters: Waiter[] = []
  private readonly pushers: Pusher[] = []
  private readonly ahead: ReadAhead
  private feed: Feed
  private readonly waker: Subscriber
  private offering: Promise<unknown> = Promise.resolve()
  /** Whether the store may hold released deliveries ready to go (as its last answer or a signal says). */
  private mayHaveReady = true
  /** Signals so far: an answer sent before the latest one may not have seen what it announced. */
  private signals = 0
  private wakes = 0
  private isScheduled = false
  private isDispatching = false
  private isDirty = false
  /** Something changed elsewhere (a signal, a tick): push consumers' held lists are checked against the store. */
  private isUnsure = false
  private isDetached = false
  private readonly timer = new UpkeepTimer(() => void this.tick())

  constructor(
    readonly name: string,
    stored: StoredGroup,
    private readonly context: SharedContext,
  ) {
    this.config = stored.config
    this.version = stored.version
    this.filter = new Filter(stored.config.streams, stored.config.types)
    this.dlqStream = `dlq.${name}`
    this.unread = new UnreadCount(context.hub)
    this.ahead = new ReadAhead(context.hub, () => this)
    this.waker = {
      connections: 0,
      deliver: () => this.wake(false),
      end: () => {},
    }
    this.feed = context.hub.subscribe(new Selector([this.filter]), this.waker)
    this.timer.lookIn(this.ackTimeoutMs, this.ackTimeoutMs)
  }

  /** The stored config changed (same incarnation): read and wake on what it says now. */
  reconfigure(stored: StoredGroup): void {
    this.config = stored.config
    this.version = stored.version
    this.filter = new Filter(stored.config.streams, stored.config.types)
    this.ahead.reset()
    this.context.hub.unsubscribe(this.feed, this.waker)
    this.feed = this.context.hub.subscribe(new Selector([this.filter]), this.waker)
    this.wake(true)
  }

  /** Something may be ready: new matching events here, or another node's release (`isSignal`). */
  wake(isSignal: boolean): void {
    this.wakes++
    if (isSignal) {
      this.signals++
      this.isUnsure = true
      this.mayHaveReady = true
    }
    if (this.waiters.length > 0 || this.pushers.some((p) => isSignal || p.hasCredit)) this.schedule()
  }

  /** Lets everything go: timer, subscription, waiting claims (answered empty), push consumers (ended). */
  detach(): void {
    this.isDetached = true
    this.timer.stop()
    this.context.hub.unsubscribe(this.feed, this.waker)
    for (const w of this.waiters.splice(0)) w.done([])
    for (const p of this.pushers.splice(0)) {
      p.isClosed = true
      p.ended()
    }
  }

  /** At shutdown: push consumers' leases come back, long-polls answer empty, the timer stops. */
  async stop(): Promise<void> {
    this.timer.stop()
    for (const w of this.waiters.splice(0)) w.done([])
    await Promise.all([...this.pushers].map((p) => this.release(p)))
    this.context.hub.unsubscribe(this.feed, this.waker)
  }

  /** Up to `max` deliveries for `consumer`; with `waitMs`, waits until something is ready (or the wait ends). */
  async claim(consumer: string, max: number, waitMs: number, signal?: AbortSignal): Promise<Claimed[]> {
    const wakes = this.wakes
    const got = await this.take(consumer, max, null, false)
    if (got.length > 0 || waitMs <= 0 || signal?.aborted || this.isStopped) return got
    // A claim under way for it answers it, so nothing it takes is stranded.
    const mayLeave = (waiter: Waiter) => {
      if (!waiter.isTaking) return true
      waiter.isLeaving = true
      return false
    }
    const answered = park<Claimed, Waiter>(this.waiters, { consumer, max, isTaking: false, isLeaving: false }, waitMs, signal, mayLeave)
    // Woken while the first claim was under way: that claim may not have seen what woke it.
    if (this.wakes !== wakes) this.schedule()
    return answered
  }

  /** ack / nack / extend / term; what push consumers here no longer hold frees their credit. */
  async settle(consumer: string | null, ids: readonly number[], op: SettleOp): Promise<{ ok: number[]; notHeld: number[]; deadlineMs: number }> {
    const r = await this.context.store.settle(this.name, consumer, ids, op)
    if (r.kind === 'missing') throw this.missing()
    if (op.op !== 'extend' && r.ok.length > 0) {
      for (const p of this.pushers) if (consumer === null || p.consumer === consumer) for (const id of r.ok) p.held.delete(id)
      // Credit freed here, and perhaps work: a nack releases, an ack under ordering "stream" lets the next go.
      this.wake(op.op === 'nack' || this.isOrdered)
    }
    await this.upkept(r)
    return { ok: r.ok, notHeld: r.notHeld, deadlineMs: r.deadlineMs }
  }

  /** A push consumer with `max` credit. */
  consume(consumer: string, max: number, send: (d: Claimed) => void, ended: () => void): PushHandle {
    const pusher = new Pusher(consumer, max, send, ended, (p) => this.context.track(this.release(p)))
    this.pushers.push(pusher)
    this.schedule()
    return pusher
  }

  private get isStopped(): boolean {
    return this.isDetached || this.context.isStopped()
  }

  private get isOrdered(): boolean {
    return this.config.ordering === 'stream'
  }

  private get ackTimeoutMs(): number {
    return this.config.ackTimeoutSec * 1000
  }

  private missing(): RingcastError {
    this.context.gone(this)
    return refusals.noSuchGroup(this.name)
  }

  /**
   * Up to `n` deliveries (a push consumer: up to its credit). A push consumer's held list is checked against the
   * store when `isChecked`; else its credit is as this node knows it. `isWoken`: a dispatch, which asks the store
   * only when there is something to offer or something may have been released (a claim always asks).
   */
  private async take(consumer: string, n: number, pusher: Pusher | null, isWoken: boolean, isChecked = false): Promise<Claimed[]> {
    if (this.isStopped || pusher?.isClosed) return []
    const out: HandedOut[] = []
    const proposed = new Map<number, Event>()
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const check = isChecked && round === 0
      const max = pusher ? pusher.max - (check ? 0 : pusher.held.size) : n - out.length
      const offer = await this.offer(max)
      if (offer.events.length === 0 && !this.mayHaveReady && !check && (isWoken || round > 0)) break
      const signals = this.signals
      const r = await this.context.store.claim(this.name, {
        consumer,
        max,
        version: this.version,
        cursor: offer.from,
        proposals: offer.events.map((e) => ({ id: e.id, stream: e.stream })),
        end: offer.end,
        gap: offer.gap,
        held: pusher && check ? [...pusher.held] : [],
      })
      if (r.kind === 'missing') throw this.missing()
      if (r.kind === 'stale') {
        this.cursor = offer.from
        await this.context.refresh(this.name)
        if (this.isStopped) throw this.missing()
        continue
      }
      for (const e of offer.events) proposed.set(e.id, e)
      const isTaken = !r.isMoved && r.cursor >= offer.end
      // Not all taken (moved by another node, or enough without them): offer from where the group is.
      if (!isTaken) this.cursor = r.cursor
      if (signals === this.signals) this.mayHaveReady = r.ready > 0
      this.context.track(this.upkept(r))
      if (pusher) {
        for (const id of r.gone) pusher.held.delete(id)
        for (const d of r.deliveries) pusher.held.set(d.id, d.attempt)
      }
      out.push(...r.deliveries)
      const isFull = pusher ? pusher.held.size >= pusher.max : out.length >= n
      if (isFull || (isTaken && offer.end >= this.context.hub.lastId) || (!isTaken && !r.isMoved)) break
    }
    if (pusher?.isClosed && out.length > 0) {
      await this.context.store.release(this.name, consumer, out.map((d) => [d.id, d.attempt]))
      return []
    }
    return this.resolve(out, proposed, pusher)
  }

  /**
   * The next new events to propose, from where the group will be once the claims already sent are taken:
   * claims go out back to back on one connection, so Redis runs them in that order and each finds the
   * cursor its offer was made from. One that does not (another node moved it) takes none of its offer.
   */
  private offer(max: number): Promise<Offer> {
    const run = this.offering.then(async (): Promise<Offer> => {
      const from = this.cursor
      const ahead = await this.ahead.after(from)
      const events = ahead.events.slice(0, Math.max(0, this.isOrdered ? max + ORDERED_EXTRA : max))
      const end = events.length === ahead.events.length ? ahead.end : events.length > 0 ? events[events.length - 1].id : from
      this.cursor = end
      return { from, events, end, ...(ahead.gap && { gap: ahead.gap }) }
    })
    this.offering = run.catch(() => {})
    return run
  }

  /** The events of what was handed out: proposed ones are known, released ones are read (ring first). */
  private async resolve(handed: HandedOut[], proposed: Map<number, Event>, pusher: Pusher | null): Promise<Claimed[]> {
    const known = await eventsOf(this.context.hub, handed, proposed)
    const lost = handed.filter((d) => !known.has(d.id)).map((d) => d.id)
    if (lost.length > 0) {
      // The stream was deleted, or was ephemeral: say so as a gap, and never hand these out again.
      for (const id of lost) pusher?.held.delete(id)
      await this.context.store.forget(this.name, this.config.createdMs, lost)
    }
    return handed.filter((d) => known.has(d.id)).map((d) => ({ event: known.get(d.id)!, attempt: d.attempt, deadlineMs: d.deadlineMs }))
  }

  private schedule(): void {
    if (this.isScheduled || this.isStopped) return
    this.isScheduled = true
    setImmediate(() => void this.dispatch().catch((error) => this.context.onError('group dispatch failed', error)))
  }

  /** Serves waiting claims, then push consumers; a wake during a dispatch runs it once more. */
  private async dispatch(): Promise<void> {
    this.isScheduled = false
    if (this.isDispatching) return void (this.isDirty = true)
    this.isDispatching = true
    try {
      do {
        this.isDirty = false
        await this.serve()
      } while (this.isDirty && !this.isStopped)
    } finally {
      this.isDispatching = false
    }
  }

  private async serve(): Promise<void> {
    while (this.waiters.length > 0 && !this.isStopped) {
      const w = this.waiters[0]
      w.isTaking = true
      const got = await this.take(w.consumer, w.max, null, true).catch((error) => {
        this.context.onError('group claim failed', error)
        return []
      })
      w.isTaking = false
      if (got.length === 0 && !w.isLeaving) break
      const at = this.waiters.indexOf(w)
      if (at >= 0) this.waiters.splice(at, 1)
      w.done(got)
    }
    const isChecked = this.isUnsure
    this.isUnsure = false
    // All at once (their claims go out back to back), starting with a different one each time.
    const first = this.pushers.length > 0 ? this.context.nextRotation() % this.pushers.length : 0
    const turn = [...this.pushers.slice(first), ...this.pushers.slice(0, first)].filter((p) => isChecked || p.hasCredit)
    await Promise.all(
      turn.map(async (p) => {
        for (const d of await this.take(p.consumer, p.max, p, true, isChecked)) p.send(d)
      }),
    )
  }

  /** A push consumer went away: what it holds comes back at once (attempt counted). */
  private async release(p: Pusher): Promise<void> {
    const at = this.pushers.indexOf(p)
    if (at >= 0) this.pushers.splice(at, 1)
    const held = [...p.held]
    p.held.clear()
    if (held.length === 0 || this.isDetached) return
    try {
      const u = await this.context.store.release(this.name, p.consumer, held)
      if (u) await this.upkept(u)
      this.wake(true)
    } catch (error) {
      this.context.onError('releasing a push consumer failed; its leases come back at their deadline', error)
    }
  }

  /** After a store operation: its clock, the next time to look, and the letters of what it found dead. */
  private upkept(u: Upkeep): Promise<void> {
    this.timer.looked(u.nowMs, u.nextDueMs, this.ackTimeoutMs)
    return u.dead.length > 0 ? this.context.bury(this, u.dead) : Promise.resolve()
  }

  /** Expires due leases, takes over dead letters no node finished, and wakes what waits here. */
  private async tick(): Promise<void> {
    if (this.isStopped) return
    try {
      const u = await this.context.store.tick(this.name)
      if (!u) return this.context.gone(this)
      await this.upkept(u)
      this.wake(true)
    } catch (error) {
      this.context.onError('group upkeep failed; retrying in 1 s', error)
      this.timer.lookIn(1000, this.ackTimeoutMs)
    }
  }
}
