import type { Event } from '../core/event'
import type { Hub } from '../core/hub'
import { assertPattern } from '../core/pattern'
import type { Claimed, ConsumerGroups, GroupView, PushHandle } from './consumer-groups'
import { DeadLetters, type ReplayResult } from './dead-letters'
import { Delivery, type Settled } from './delivery'
import { Group } from './group'
import type { DeliveryRecord, GroupLog } from './group-log'
import { groupStats } from './group-stats'
import { assertGroupName, createdConfig, type GroupSpec, refusals, updatedConfig } from './live'
import { type LiveContext, LiveGroup } from './live-group'

/**
 * Consumer groups over the hub: each matching event is held by at most one consumer at a time,
 * comes back past its deadline, and goes to `dlq.{group}` after its last attempt.
 * Every change is written to the GroupLog before a claim or settlement is answered.
 */
export class Groups implements ConsumerGroups {
  private readonly live = new Map<string, LiveGroup>()
  private readonly deadLetters: DeadLetters<Group, Delivery>
  private readonly context: LiveContext
  private isStopped = false
  private rotation = 0

  constructor(
    readonly hub: Hub,
    private readonly log: GroupLog,
    private readonly onError: (message: string, error: unknown) => void = () => {},
  ) {
    this.deadLetters = new DeadLetters<Group, Delivery>(
      hub,
      {
        buried: (group, letters) => {
          const live = this.live.get(group.name)
          // A letter of a group deleted (and perhaps made again) since settles nothing.
          if (live?.group === group) for (const d of letters) live.buried(d)
        },
        isDead: (group, d) => group.pending.get(d.id) === d,
      },
      onError,
    )
    this.context = { hub, log, deadLetters: this.deadLetters, onError, isStopped: () => this.isStopped, nextRotation: () => this.rotation++ }
  }

  /** Loads every group with its cursor and unsettled deliveries; a lease still running is honoured until its deadline. */
  async load(): Promise<void> {
    const nowMs = Date.now()
    for (const record of this.log.groups()) {
      const group = new Group(record.name, record.config, record.cursor, record.counters)
      const records = this.log.deliveries(record.name)
      const events = new Map<number, Event>()
      for (const [stream, ids] of byStream(records)) for (const e of await this.hub.events(stream, ids)) events.set(e.id, e)
      const lost: number[] = []
      for (const r of records) {
        const event = events.get(r.id)
        if (event) group.restore(new Delivery(event, r.consumer, r.attempt, r.deadlineMs, r.reason, r.isDead))
        else lost.push(r.id)
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
      if (dead.length > 0) void this.deadLetters.bury(group, dead)
      live.resume()
    }
  }

  async list(): Promise<GroupView[]> {
    const groups = [...this.live.values()].map((l) => l.group).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return Promise.all(groups.map((g) => this.viewOf(g)))
  }

  async view(name: string): Promise<GroupView> {
    return this.viewOf(this.entry(name).group)
  }

  async patterns(name: string): Promise<readonly string[] | undefined> {
    return this.live.get(name)?.group.config.streams
  }

  /** Creates or updates a group; `start` is read only at creation. */
  async put(name: string, spec: GroupSpec): Promise<{ view: GroupView; isNew: boolean }> {
    const { group, isNew } = this.change(name, spec)
    return { view: await this.viewOf(group), isNew }
  }

  /** The group as created or updated (the write is done when it returns). */
  private change(name: string, spec: GroupSpec): { group: Group; isNew: boolean } {
    assertGroupName(name)
    for (const p of spec.streams ?? []) assertPattern(p)
    const existing = this.live.get(name)
    if (existing) {
      existing.group.reconfigure(updatedConfig(existing.group.config, spec))
      this.log.saveGroup(existing.group.record())
      existing.resubscribe()
      return { group: existing.group, isNew: false }
    }
    if (!spec.streams || spec.streams.length === 0) throw refusals.needsStreams()
    const start = spec.start ?? 'latest'
    const last = this.hub.lastId
    if (typeof start === 'number' && start > last) throw refusals.startAfterLast(start, last)
    const config = createdConfig({ ...spec, streams: spec.streams, start }, start === 'earliest' ? this.prunedThrough(spec.streams) : 0)
    const cursor = start === 'earliest' ? 0 : start === 'latest' ? last : start
    const group = new Group(name, config, cursor, { acks: 0, redeliveries: 0, deadLetters: 0, gaps: 0, lastGap: null })
    this.log.saveGroup(group.record())
    this.attach(group)
    return { group, isNew: true }
  }

  /** Forgets a group, its cursor and its leases; its consumers are let go. The DLQ stream stays. */
  async delete(name: string): Promise<boolean> {
    const live = this.live.get(name)
    if (!live) return false
    this.live.delete(name)
    live.detach()
    this.log.deleteGroup(name)
    return true
  }

  /** Up to `max` deliveries for `consumer`; with `waitMs`, waits until something is ready (or the wait ends). */
  claim(name: string, consumer: string, max: number, waitMs: number, signal?: AbortSignal): Promise<Claimed[]> {
    return this.entry(name).claim(consumer, max, waitMs, signal)
  }

  /** Resolves once the acks are written: an acked event never comes back, restarts included. */
  ack(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled> {
    return this.entry(name).ack(consumer, ids)
  }

  /** Releases held ids for redelivery after `delaySec`; at their last attempt they are dead-lettered (awaited). */
  nack(name: string, consumer: string | null, ids: readonly number[], delaySec = 0): Promise<Settled> {
    return this.entry(name).nack(consumer, ids, delaySec)
  }

  /** Pushes the deadline of held ids to ackTimeout from now; returns that deadline. */
  extend(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled & { deadlineMs: number }> {
    return this.entry(name).extend(consumer, ids)
  }

  /** Gives up on held ids: they go to the dead-letter stream at once (answered once committed there). */
  term(name: string, consumer: string | null, ids: readonly number[], reason = 'terminated by consumer'): Promise<Settled> {
    return this.entry(name).term(consumer, ids, reason)
  }

  /** A push consumer with `max` credit; `send` gets each delivery, `ended` is called if the group is deleted. */
  async consume(name: string, consumer: string, max: number, send: (d: Claimed) => void, ended: () => void): Promise<PushHandle> {
    return this.entry(name).consume(consumer, max, send, ended)
  }

  replay(name: string, ids?: readonly number[]): Promise<ReplayResult> {
    return this.deadLetters.replay(this.entry(name).group, ids)
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
    for (const live of this.live.values()) live.stop()
    await this.deadLetters.settled()
    for (const live of this.live.values()) live.flush()
    this.isStopped = true
  }

  private entry(name: string): LiveGroup {
    const live = this.live.get(name)
    if (!live) throw refusals.noSuchGroup(name)
    if (this.isStopped) throw refusals.stopping()
    return live
  }

  private async viewOf(g: Group): Promise<GroupView> {
    return { ...g.record(), ...(await groupStats(this.hub, g)) }
  }

  private attach(group: Group): LiveGroup {
    const live = new LiveGroup(group, this.context)
    this.live.set(group.name, live)
    return live
  }

  private prunedThrough(patterns: readonly string[]): number {
    let max = 0
    for (const s of this.hub.streamsMatching(patterns)) if (s.record.prunedThrough > max) max = s.record.prunedThrough
    return max
  }
}

/** Delivery records' ids, by stream: events are read back a stream at a time. */
function byStream(records: readonly DeliveryRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const r of records) {
    const ids = out.get(r.stream)
    if (ids) ids.push(r.id)
    else out.set(r.stream, [r.id])
  }
  return out
}
