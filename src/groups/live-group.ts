import { RingcastError } from '../core/errors'
import type { Batch, Feed, Subscriber } from '../core/feed'
import { Selector } from '../core/filter'
import type { Hub } from '../core/hub'
import type { DeadLetters } from './dead-letters'
import type { Delivery, Settled } from './delivery'
import type { Group, ReadFn } from './group'
import type { GroupLog } from './group-log'
import { Pusher, type Waiter } from './live'
import { park } from './park'

/** What a live group shares with the others. */
export interface LiveContext {
  readonly hub: Hub
  readonly log: GroupLog
  readonly deadLetters: DeadLetters<Group, Delivery>
  onError(message: string, error: unknown): void
  /** Whether the server is shutting down. */
  isStopped(): boolean
  /** Which push consumer goes first this time, so none is favoured. */
  nextRotation(): number
}

/**
 * A group with what keeps it moving: its hub subscription (which wakes it on new events), its
 * waiting claims, its push consumers and its deadline timer. Changes of one event-loop turn are
 * written in one GroupLog write, before the claims and settlements they answer.
 */
export class LiveGroup {
  readonly waiters: Waiter[] = []
  readonly pushers: Pusher[] = []
  private feed: Feed
  private readonly waker: Subscriber
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAtMs = 0
  private isScheduled = false
  private isDetached = false
  /** Settlements waiting for the next write. */
  private readonly commits: { resolve(): void; reject(error: unknown): void }[] = []

  constructor(
    readonly group: Group,
    private readonly context: LiveContext,
  ) {
    this.waker = {
      connections: 0,
      deliver: (batch: Batch) => {
        for (const e of batch.events) group.published(e)
        if (this.isWanted) this.schedule()
      },
      end: () => {},
    }
    this.feed = context.hub.subscribe(new Selector([group.filter]), this.waker)
  }

  /** The group's filter changed: wake on what it reads now. */
  resubscribe(): void {
    this.context.hub.unsubscribe(this.feed, this.waker)
    this.feed = this.context.hub.subscribe(new Selector([this.group.filter]), this.waker)
    this.schedule()
  }

  /** Lets everything go: timer, subscription, waiting claims (answered empty), push consumers (ended). */
  detach(): void {
    this.isDetached = true
    clearTimeout(this.timer)
    this.context.hub.unsubscribe(this.feed, this.waker)
    for (const w of this.waiters.splice(0)) w.done([])
    for (const p of this.pushers.splice(0)) p.ended()
    this.settleCommits()
  }

  /** Up to `max` deliveries for `consumer`; with `waitMs`, waits until something is ready (or the wait ends). */
  async claim(consumer: string, max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    this.group.touch(consumer, Date.now())
    const got = await this.take(max, consumer, null)
    this.persist()
    if (got.length > 0 || waitMs <= 0 || signal?.aborted) {
      if (got.length > 0) this.armAfterTake(Date.now())
      return got
    }
    const answered = await park<Delivery, Waiter>(this.waiters, { consumer, max }, waitMs, signal)
    this.group.touch(consumer, Date.now())
    return answered
  }

  /** Resolves once the acks are written: an acked event never comes back, restarts included. */
  async ack(consumer: string | null, ids: readonly number[]): Promise<Settled> {
    const settled = this.group.ack(consumer, ids, this.touched(consumer))
    if (settled.ok.length > 0) await this.commit()
    return settled
  }

  /** Releases held ids for redelivery after `delaySec`; at their last attempt they are dead-lettered (awaited). */
  async nack(consumer: string | null, ids: readonly number[], delaySec = 0): Promise<Settled> {
    const nowMs = this.touched(consumer)
    const dead: Delivery[] = []
    const settled = this.group.nack(consumer, ids, nowMs + delaySec * 1000, dead)
    if (delaySec > 0) this.arm(nowMs + delaySec * 1000)
    if (settled.ok.length > 0) await this.commit()
    await this.context.deadLetters.bury(this.group, dead)
    return settled
  }

  /** Pushes the deadline of held ids to ackTimeout from now; returns that deadline. */
  async extend(consumer: string | null, ids: readonly number[]): Promise<Settled & { deadlineMs: number }> {
    const nowMs = this.touched(consumer)
    const settled = this.group.extend(consumer, ids, nowMs)
    if (settled.ok.length > 0) await this.commit()
    return { ...settled, deadlineMs: nowMs + this.group.config.ackTimeoutSec * 1000 }
  }

  /** Gives up on held ids: they go to the dead-letter stream at once (answered once committed there). */
  async term(consumer: string | null, ids: readonly number[], reason: string): Promise<Settled> {
    this.touched(consumer)
    const dead: Delivery[] = []
    const settled = this.group.term(consumer, ids, reason, dead)
    if (settled.ok.length > 0) await this.commit()
    await this.context.deadLetters.bury(this.group, dead)
    return settled
  }

  /** A push consumer with `max` credit; `send` gets each delivery, `ended` is called if the group is deleted. */
  consume(consumer: string, max: number, send: (d: Delivery) => void, ended: () => void): Pusher {
    this.group.touch(consumer, Date.now())
    const pusher = new Pusher(consumer, max, send, ended, (p) => this.release(p))
    this.pushers.push(pusher)
    this.schedule()
    return pusher
  }

  /** The dead letter is committed: settle the event. */
  buried(d: Delivery): void {
    if (this.isStopped) return
    this.group.deadLettered(d)
    this.persist()
    this.schedule()
  }

  /** At shutdown: push consumers' leases come back, long-polls answer empty, the timer stops. */
  stop(): void {
    for (const p of [...this.pushers]) this.release(p)
    for (const w of this.waiters.splice(0)) w.done([])
    clearTimeout(this.timer)
  }

  /** After stop(): what is pending is written and the settlements waiting on it answered. */
  flush(): void {
    this.settleCommits()
    try {
      this.persist()
    } catch (error) {
      this.context.onError('group write failed at shutdown', error)
    }
    this.context.hub.unsubscribe(this.feed, this.waker)
  }

  /** Starts the deadline timer for what was loaded. */
  resume(): void {
    this.tick()
  }

  private get isStopped(): boolean {
    return this.isDetached || this.context.isStopped()
  }

  private get isWanted(): boolean {
    return this.waiters.length > 0 || this.pushers.some((p) => p.held.size < p.max)
  }

  private touched(consumer: string | null): number {
    const nowMs = Date.now()
    if (consumer !== null) this.group.touch(consumer, nowMs)
    return nowMs
  }

  private read(): ReadFn {
    const { hub } = this.context
    const floor = this.group.config.gapFloor
    return async (filter, after, n) => {
      const page = await hub.read(filter, after, n)
      // Events pruned before the group was created with start=earliest are not the group's gap.
      if (page.gap && !hub.streamsMatching(filter.patterns).some((s) => s.record.prunedThrough > Math.max(after, floor))) delete page.gap
      return page
    }
  }

  /** Up to `n` deliveries, reading ahead as needed until the group has caught up with what is published. */
  private async take(n: number, consumer: string, holder: Pusher | null): Promise<Delivery[]> {
    const out: Delivery[] = []
    const read = this.read()
    for (;;) {
      await this.group.fill(read, Date.now())
      const got = this.group.take(n - out.length, consumer, holder, Date.now())
      out.push(...got)
      // Nothing taken with events read ahead: they wait behind their streams (ordering "stream").
      if (out.length >= n || got.length === 0 || this.group.isCaughtUp) return out
    }
  }

  /** Serves waiting claims, then push consumers with credit (rotating who goes first); one write for all. */
  private async dispatch(): Promise<void> {
    this.isScheduled = false
    if (this.isStopped) return this.settleCommits()
    if (this.waiters.length > 0 || this.pushers.length > 0) {
      try {
        await this.group.fill(this.read(), Date.now())
      } catch (error) {
        // Released deliveries can still go out; the read is tried again at the next dispatch.
        this.context.onError('group read failed', error)
      }
      if (this.isStopped) return this.settleCommits()
    }
    const nowMs = Date.now()
    const answered: [Waiter, Delivery[]][] = []
    while (this.waiters.length > 0) {
      const w = this.waiters[0]
      const got = this.group.take(w.max, w.consumer, null, nowMs)
      if (got.length === 0) break
      this.waiters.shift()
      answered.push([w, got])
    }
    const pushed: [Pusher, Delivery[]][] = []
    const n = this.pushers.length
    const first = n > 0 ? this.context.nextRotation() % n : 0
    for (let i = 0; i < n; i++) {
      const p = this.pushers[(first + i) % n]
      const credit = p.max - p.held.size
      if (credit <= 0) continue
      const got = this.group.take(credit, p.consumer, p, nowMs)
      if (got.length === 0) break
      pushed.push([p, got])
    }
    try {
      this.persist()
    } catch (error) {
      this.context.onError('group write failed', error)
      for (const c of this.commits.splice(0)) c.reject(error)
      return
    }
    for (const c of this.commits.splice(0)) c.resolve()
    if (answered.length + pushed.length > 0) this.armAfterTake(nowMs)
    for (const [w, got] of answered) w.done(got)
    for (const [p, got] of pushed) for (const d of got) p.send(d)
    // A page was used up with consumers still asking: read the next one at the next turn.
    if (this.isWanted && answered.length + pushed.length > 0 && !this.group.isCaughtUp) this.schedule()
  }

  private schedule(): void {
    if (this.isScheduled) return
    this.isScheduled = true
    // After this event-loop turn: every ack and publish of the turn is seen by one dispatch and one write.
    setImmediate(() => this.dispatch().catch((error) => this.context.onError('group dispatch failed', error)))
  }

  /** Resolves once the group's in-memory changes so far are written (by the next dispatch). */
  private commit(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.commits.push({ resolve, reject })
      this.schedule()
    })
  }

  /** Writes what is pending outside a dispatch (shutdown, deleted group) and answers the waiting settlements. */
  private settleCommits(): void {
    if (this.commits.length === 0) return
    try {
      if (!this.isDetached) this.persist()
      for (const c of this.commits.splice(0)) c.resolve()
    } catch (error) {
      for (const c of this.commits.splice(0)) c.reject(error)
    }
  }

  private release(p: Pusher): void {
    const at = this.pushers.indexOf(p)
    if (at < 0 || this.isStopped) return
    this.pushers.splice(at, 1)
    const dead: Delivery[] = []
    if (this.group.releaseHolder(p, Date.now(), dead) > 0) {
      this.persist()
      this.schedule()
    }
    void this.context.deadLetters.bury(this.group, dead)
  }

  private persist(): void {
    const change = this.group.drain()
    if (!change) return
    try {
      this.context.log.write(change)
    } catch (error) {
      throw new RingcastError('unavailable', `The group state could not be written: ${(error as Error).message}`, 'Retry; leases not written are released at their deadline.')
    }
  }

  /** Deadlines of deliveries just handed out are all ackTimeout from now: one timer covers them. */
  private armAfterTake(nowMs: number): void {
    this.arm(nowMs + this.group.config.ackTimeoutSec * 1000)
  }

  private arm(atMs: number): void {
    if (this.timer !== undefined && this.timerAtMs <= atMs) return
    clearTimeout(this.timer)
    this.timerAtMs = atMs
    this.timer = setTimeout(() => this.tick(), Math.max(0, atMs - Date.now()) + 5)
  }

  /** Expires leases past their deadline, makes delayed releases available, and re-arms for the next one. */
  private tick(): void {
    this.timer = undefined
    if (this.isStopped) return
    const nowMs = Date.now()
    const dead: Delivery[] = []
    this.group.expire(nowMs, dead)
    try {
      this.persist()
    } catch (error) {
      this.context.onError('group write failed', error)
    }
    this.schedule()
    void this.context.deadLetters.bury(this.group, dead)
    const next = this.group.nextDueMs(nowMs)
    if (next !== null) this.arm(next)
  }
}
