import { RingcastError } from '../core/errors'
import type { Batch } from '../core/feed'
import { Selector } from '../core/filter'
import type { Hub } from '../core/hub'
import { assertPattern } from '../core/pattern'
import { eventFromRow } from '../core/streams'
import { DeadLetters } from './dead-letters'
import { Delivery, Group, type ReadFn, type Settled } from './group'
import type { GroupLog } from './group-log'
import { assertGroupName, createdConfig, type GroupSpec, type Live, Pusher, type PushConsumer, updatedConfig, type Waiter } from './live'

/**
 * Consumer groups over the hub: each matching event is held by at most one consumer at a time,
 * comes back past its deadline, and goes to `dlq.{group}` after its last attempt.
 * Every change is written to the GroupLog before a claim or settlement is answered.
 */
export class Groups {
  private readonly live = new Map<string, Live>()
  readonly deadLetters: DeadLetters
  private isStopped = false
  private rotate = 0

  constructor(
    readonly hub: Hub,
    private readonly log: GroupLog,
    private readonly onError: (message: string, error: unknown) => void = () => {},
  ) {
    this.deadLetters = new DeadLetters(hub, (group, d) => this.buried(group, d), onError)
  }

  /** Loads every group with its cursor and unsettled deliveries; a lease still running is honoured until its deadline. */
  load(): void {
    const nowMs = Date.now()
    for (const record of this.log.groups()) {
      const group = new Group(record.name, record.config, record.cursor, record.counters)
      const lost: number[] = []
      for (const r of this.log.deliveries(record.name)) {
        const row = this.hub.log.get(r.id)
        if (!row) {
          lost.push(r.id)
          continue
        }
        group.restore(new Delivery(eventFromRow(row), r.consumer, r.attempt, r.deadlineMs, r.reason, r.isDead))
      }
      // Only ephemeral or deleted streams lose events the group held: say so as a gap.
      if (lost.length > 0) {
        group.counters.gaps++
        group.counters.lastGap = { after: lost[0] - 1, firstId: lost[lost.length - 1] + 1, timeMs: nowMs }
      }
      group.drain()
      if (lost.length > 0) this.log.write({ group: group.name, cursor: group.cursor, counters: group.counters, upsert: [], remove: lost })
      const live = this.attach(group)
      const dead = [...group.pending.values()].filter((d) => d.isDead)
      if (dead.length > 0) this.deadLetters.bury(group, dead)
      this.tick(live)
    }
  }

  list(): Group[] {
    return [...this.live.values()].map((l) => l.group).sort((a, b) => a.name.localeCompare(b.name))
  }

  get(name: string): Group | undefined {
    return this.live.get(name)?.group
  }

  /** The group, or not_found. */
  known(name: string): Group {
    return this.entry(name).group
  }

  /** Creates or updates a group; `start` is read only at creation. */
  put(name: string, spec: GroupSpec): { group: Group; isNew: boolean } {
    assertGroupName(name)
    for (const p of spec.streams ?? []) assertPattern(p)
    const existing = this.live.get(name)
    if (!existing) {
      if (!spec.streams || spec.streams.length === 0) throw new RingcastError('bad_request', 'A new group needs streams.', 'Give streams: ["jobs.*"].')
      const start = spec.start ?? 'latest'
      if (typeof start === 'number' && start > this.hub.lastId) {
        throw new RingcastError('bad_request', `start ${start} is after the last id issued (${this.hub.lastId}).`, 'Use earliest, latest or an id that was issued.')
      }
      const config = createdConfig({ ...spec, streams: spec.streams, start }, start === 'earliest' ? this.prunedThrough(spec.streams) : 0)
      const cursor = start === 'earliest' ? 0 : start === 'latest' ? this.hub.lastId : start
      const group = new Group(name, config, cursor, { acks: 0, redeliveries: 0, deadLetters: 0, gaps: 0, lastGap: null })
      this.log.saveGroup(group.record())
      this.attach(group)
      return { group, isNew: true }
    }
    const { group } = existing
    group.reconfigure(updatedConfig(group.config, spec))
    this.log.saveGroup(group.record())
    this.hub.unsubscribe(existing.feed, existing.waker)
    existing.feed = this.hub.subscribe(new Selector([group.filter]), existing.waker)
    this.schedule(existing)
    return { group, isNew: false }
  }

  /** Forgets a group, its cursor and its leases; its consumers are let go. The DLQ stream stays. */
  delete(name: string): boolean {
    const live = this.live.get(name)
    if (!live) return false
    this.live.delete(name)
    this.detach(live)
    this.log.deleteGroup(name)
    return true
  }

  /** Up to `max` deliveries for `consumer`; with `waitMs`, waits until something is ready (or the wait ends). */
  async claim(name: string, consumer: string, max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    const live = this.entry(name)
    const nowMs = Date.now()
    live.group.touch(consumer, nowMs)
    const got = live.group.take(max, consumer, null, nowMs, this.reader(live.group))
    this.persist(live)
    if (got.length > 0 || waitMs <= 0 || signal?.aborted) {
      if (got.length > 0) this.armAfterTake(live, nowMs)
      return got
    }
    return new Promise((resolve) => {
      const finish = (deliveries: Delivery[]) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        live.group.touch(consumer, Date.now())
        resolve(deliveries)
      }
      const waiter: Waiter = { consumer, max, done: finish }
      const leave = () => {
        const at = live.waiters.indexOf(waiter)
        if (at >= 0) live.waiters.splice(at, 1)
        finish([])
      }
      const onAbort = () => leave()
      const timer = setTimeout(leave, waitMs)
      signal?.addEventListener('abort', onAbort)
      live.waiters.push(waiter)
    })
  }

  /** Resolves once the acks are written: an acked event never comes back, restarts included. */
  async ack(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled> {
    const { live, nowMs } = this.settling(name, consumer)
    const settled = live.group.ack(consumer, ids, nowMs)
    if (settled.ok.length > 0) await this.commit(live)
    return settled
  }

  /** Releases held ids for redelivery after `delaySec`; at their last attempt they are dead-lettered (awaited). */
  async nack(name: string, consumer: string | null, ids: readonly number[], delaySec = 0): Promise<Settled> {
    const { live, nowMs } = this.settling(name, consumer)
    const dead: Delivery[] = []
    const settled = live.group.nack(consumer, ids, nowMs + delaySec * 1000, dead)
    if (delaySec > 0) this.arm(live, nowMs + delaySec * 1000)
    if (settled.ok.length > 0) await this.commit(live)
    await this.deadLetters.bury(live.group, dead)
    return settled
  }

  /** Pushes the deadline of held ids to ackTimeout from now; returns that deadline. */
  async extend(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled & { deadlineMs: number }> {
    const { live, nowMs } = this.settling(name, consumer)
    const settled = live.group.extend(consumer, ids, nowMs)
    if (settled.ok.length > 0) await this.commit(live)
    return { ...settled, deadlineMs: nowMs + live.group.config.ackTimeoutSec * 1000 }
  }

  /** Gives up on held ids: they go to the dead-letter stream at once (answered once committed there). */
  async term(name: string, consumer: string | null, ids: readonly number[], reason = 'terminated by consumer'): Promise<Settled> {
    const { live } = this.settling(name, consumer)
    const dead: Delivery[] = []
    const settled = live.group.term(consumer, ids, reason, dead)
    if (settled.ok.length > 0) await this.commit(live)
    await this.deadLetters.bury(live.group, dead)
    return settled
  }

  /** A push consumer with `max` credit; `send` gets each delivery, `ended` is called if the group is deleted. */
  consume(name: string, consumer: string, max: number, send: (d: Delivery) => void, ended: () => void): PushConsumer {
    const live = this.entry(name)
    live.group.touch(consumer, Date.now())
    const pusher = new Pusher(live, consumer, max, send, ended, (p) => this.release(p))
    live.pushers.push(pusher)
    this.schedule(live)
    return pusher
  }

  /** Smallest unsettled id of `stream` over every group (retention keeps it). */
  heldFrom(stream: string): number | undefined {
    let min: number | undefined
    for (const { group } of this.live.values()) {
      const id = group.heldFrom(stream)
      if (id !== undefined && (min === undefined || id < min)) min = id
    }
    return min
  }

  /** Releases push consumers' leases, ends long-polls and timers, waits for dead letters in flight. */
  async stop(): Promise<void> {
    if (this.isStopped) return
    for (const live of this.live.values()) {
      for (const p of [...live.pushers]) this.release(p)
      for (const w of live.waiters.splice(0)) w.done([])
      clearTimeout(live.timer)
    }
    await this.deadLetters.settled()
    for (const live of this.live.values()) {
      this.settleCommits(live)
      try {
        this.persist(live)
      } catch (error) {
        this.onError('group write failed at shutdown', error)
      }
    }
    this.isStopped = true
    for (const live of this.live.values()) this.hub.unsubscribe(live.feed, live.waker)
  }

  /** The group about to be settled, with the consumer marked as seen now. */
  private settling(name: string, consumer: string | null): { live: Live; nowMs: number } {
    const live = this.entry(name)
    const nowMs = Date.now()
    if (consumer !== null) live.group.touch(consumer, nowMs)
    return { live, nowMs }
  }

  private entry(name: string): Live {
    const live = this.live.get(name)
    if (!live) throw new RingcastError('not_found', `No group "${name}".`, 'Create it with PUT /v1/groups/{group}.')
    if (this.isStopped) throw new RingcastError('unavailable', 'The server is shutting down.', 'Retry on the restarted server.')
    return live
  }

  private attach(group: Group): Live {
    const live: Live = { group, feed: undefined as never, waker: undefined as never, waiters: [], pushers: [], timer: undefined, timerAtMs: 0, isScheduled: false, commits: [] }
    live.waker = {
      connections: 0,
      deliver: (batch: Batch) => {
        for (const e of batch.events) group.published(e)
        if (live.waiters.length > 0 || live.pushers.some((p) => p.held.size < p.max)) this.schedule(live)
      },
      end: () => {},
    }
    live.feed = this.hub.subscribe(new Selector([group.filter]), live.waker)
    this.live.set(group.name, live)
    return live
  }

  private detach(live: Live): void {
    clearTimeout(live.timer)
    this.hub.unsubscribe(live.feed, live.waker)
    for (const w of live.waiters.splice(0)) w.done([])
    for (const p of live.pushers.splice(0)) p.ended()
  }

  private reader(group: Group): ReadFn {
    return (filter, after, n) => {
      const page = this.hub.reader.read(filter, after, n)
      // Events pruned before the group was created with start=earliest are not the group's gap.
      if (page.gap && !this.hub.streams.matching(filter.patterns).some((s) => s.record.prunedThrough > Math.max(after, group.config.gapFloor))) delete page.gap
      return page
    }
  }

  private prunedThrough(patterns: readonly string[]): number {
    let max = 0
    for (const s of this.hub.streams.matching(patterns)) if (s.record.prunedThrough > max) max = s.record.prunedThrough
    return max
  }

  /** Serves waiting claims, then push consumers with credit (rotating who goes first); one write for all. */
  private dispatch(live: Live): void {
    live.isScheduled = false
    if (this.isStopped || this.live.get(live.group.name) !== live) return this.settleCommits(live)
    const nowMs = Date.now()
    const read = this.reader(live.group)
    const answered: [Waiter, Delivery[]][] = []
    while (live.waiters.length > 0) {
      const w = live.waiters[0]
      const got = live.group.take(w.max, w.consumer, null, nowMs, read)
      if (got.length === 0) break
      live.waiters.shift()
      answered.push([w, got])
    }
    const pushed: [Pusher, Delivery[]][] = []
    const n = live.pushers.length
    const first = n > 0 ? this.rotate++ % n : 0
    for (let i = 0; i < n; i++) {
      const p = live.pushers[(first + i) % n]
      const credit = p.max - p.held.size
      if (credit <= 0) continue
      const got = live.group.take(credit, p.consumer, p, nowMs, read)
      if (got.length === 0) break
      pushed.push([p, got])
    }
    try {
      this.persist(live)
    } catch (error) {
      this.onError('group write failed', error)
      for (const c of live.commits.splice(0)) c.reject(error)
      return
    }
    for (const c of live.commits.splice(0)) c.resolve()
    if (answered.length + pushed.length > 0) this.armAfterTake(live, nowMs)
    for (const [w, got] of answered) w.done(got)
    for (const [p, got] of pushed) for (const d of got) p.send(d)
  }

  private schedule(live: Live): void {
    if (live.isScheduled) return
    live.isScheduled = true
    // After this event-loop turn: every ack and publish of the turn is seen by one dispatch and one write.
    setImmediate(() => this.dispatch(live))
  }

  /** Resolves once the group's in-memory changes so far are written (by the next dispatch). */
  private commit(live: Live): Promise<void> {
    return new Promise((resolve, reject) => {
      live.commits.push({ resolve, reject })
      this.schedule(live)
    })
  }

  /** Writes what is pending outside a dispatch (shutdown, deleted group) and answers the waiting settlements. */
  private settleCommits(live: Live): void {
    if (live.commits.length === 0) return
    try {
      if (this.live.get(live.group.name) === live) this.persist(live)
      for (const c of live.commits.splice(0)) c.resolve()
    } catch (error) {
      for (const c of live.commits.splice(0)) c.reject(error)
    }
  }

  private release(p: Pusher): void {
    const live = p.live
    const at = live.pushers.indexOf(p)
    if (at < 0 || this.isStoppedFor(live)) return
    live.pushers.splice(at, 1)
    const dead: Delivery[] = []
    if (live.group.releaseHolder(p, Date.now(), dead) > 0) {
      this.persist(live)
      this.schedule(live)
    }
    void this.deadLetters.bury(live.group, dead)
  }

  private isStoppedFor(live: Live): boolean {
    return this.isStopped || this.live.get(live.group.name) !== live
  }

  /** The dead letter is committed: settle the event. */
  private buried(group: Group, d: Delivery): void {
    const live = this.live.get(group.name)
    if (!live || live.group !== group || this.isStopped) return
    group.deadLettered(d)
    this.persist(live)
    this.schedule(live)
  }

  private persist(live: Live): void {
    const change = live.group.drain()
    if (!change) return
    try {
      this.log.write(change)
    } catch (error) {
      throw new RingcastError('unavailable', `The group state could not be written: ${(error as Error).message}`, 'Retry; leases not written are released at their deadline.')
    }
  }

  /** Deadlines of deliveries just handed out are all ackTimeout from now: one timer covers them. */
  private armAfterTake(live: Live, nowMs: number): void {
    this.arm(live, nowMs + live.group.config.ackTimeoutSec * 1000)
  }

  private arm(live: Live, atMs: number): void {
    if (live.timer !== undefined && live.timerAtMs <= atMs) return
    clearTimeout(live.timer)
    live.timerAtMs = atMs
    live.timer = setTimeout(() => this.tick(live), Math.max(0, atMs - Date.now()) + 5)
  }

  /** Expires leases past their deadline, makes delayed releases available, and re-arms for the next one. */
  private tick(live: Live): void {
    live.timer = undefined
    if (this.isStoppedFor(live)) return
    const nowMs = Date.now()
    const dead: Delivery[] = []
    live.group.expire(nowMs, dead)
    try {
      this.persist(live)
    } catch (error) {
      this.onError('group write failed', error)
    }
    this.schedule(live)
    void this.deadLetters.bury(live.group, dead)
    const next = live.group.nextDueMs(nowMs)
    if (next !== null) this.arm(live, next)
  }
}
