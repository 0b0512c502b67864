import type { RingcastError } from '../../core/errors'
import type { Hub } from '../../core/hub'
import { assertPattern } from '../../core/pattern'
import type { Claimed, ConsumerGroups, GroupView, PushHandle } from '../consumer-groups'
import { DeadLetters, type Letter, type ReplayResult } from '../dead-letters'
import type { Settled } from '../delivery'
import { assertGroupName, createdConfig, type GroupSpec, refusals } from '../live'
import type { GroupPut, HandedOut, SharedGroupStore, StoredGroup } from './group-store'
import { eventsOf } from './read-ahead'
import { type SharedContext, SharedGroup } from './shared-group'

/**
 * Consumer groups shared by every node on one store (Redis): cursor, leases, attempts and dead letters
 * live there, so a worker may claim on one node and ack on another, and each event is held by at most
 * one consumer at a time cluster-wide. Every node can work every group; no node owns one.
 */
export class SharedGroups implements ConsumerGroups {
  private readonly live = new Map<string, SharedGroup>()
  private readonly refreshing = new Map<string, Promise<SharedGroup | undefined>>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly deadLetters: DeadLetters<SharedGroup, Letter>
  private readonly context: SharedContext
  private readonly onError: (message: string, error: unknown) => void
  private isStopped = false
  private rotation = 0

  constructor(
    private readonly hub: Hub,
    private readonly store: SharedGroupStore,
    report: (message: string, error: unknown) => void = () => {},
  ) {
    // Redis being away is logged once by the node; background group work only tries again.
    const onError = (message: string, error: unknown) => void ((error as RingcastError)?.code !== 'unavailable' && report(message, error))
    this.onError = onError
    this.deadLetters = new DeadLetters<SharedGroup, Letter>(
      hub,
      {
        buried: (group, letters) => store.buried(group.name, group.config.createdMs, letters.map((l) => l.id)).catch((error) => onError('settling dead letters failed; another look buries them again', error)),
        isDead: (group) => this.live.get(group.name) === group,
      },
      onError,
    )
    this.context = {
      hub,
      store,
      bury: (group, dead) => this.bury(group, dead),
      gone: (group) => this.drop(group),
      refresh: (name) => this.refresh(name),
      track: (work) => this.track(work),
      onError,
      isStopped: () => this.isStopped,
      nextRotation: () => this.rotation++,
    }
  }

  /** Takes every group the store holds; each gets its timer, so leases come due even with no consumer here. */
  async load(): Promise<void> {
    for (const stored of await this.store.groups()) this.adopt(stored)
  }

  /** A `signal` change from the shared log: `gc:G` G's config changed or it went, `g:G` work may be ready. */
  signal(name: string): void {
    if (name.startsWith('gc:')) void this.refresh(name.slice(3)).catch((error) => this.onError('reading a group failed', error))
    else if (name.startsWith('g:')) this.live.get(name.slice(2))?.wake(true)
  }

  /** Redis lost its data or this node reloaded: read every group again. */
  async reload(): Promise<void> {
    const stored = await this.store.groups()
    const names = new Set(stored.map((s) => s.name))
    for (const group of [...this.live.values()]) if (!names.has(group.name)) this.drop(group)
    for (const s of stored) this.adopt(s)
  }

  async list(): Promise<GroupView[]> {
    const names = (await this.store.groups()).map((s) => s.name).sort()
    const views = await Promise.all(names.map((name) => this.view(name).catch(() => undefined)))
    return views.filter((v): v is GroupView => v !== undefined)
  }

  async view(name: string): Promise<GroupView> {
    const group = await this.entry(name)
    const s = await this.store.stats(name)
    if (!s) throw refusals.noSuchGroup(name)
    const { config } = s.group
    const unread = await group.unread.count(group, s.group.version, s.cursor, s.read)
    const names = [...new Set([...Object.keys(s.holders), ...Object.keys(s.seen)])].sort()
    return {
      name,
      config,
      cursor: s.cursor,
      counters: s.counters,
      lag: unread + s.fresh,
      pending: s.unsettled - s.fresh,
      inFlight: s.held,
      consumers: names.map((consumer) => ({ consumer, inFlight: s.holders[consumer] ?? 0, lastSeenMs: s.seen[consumer] ?? null })),
      acksPerSecond: s.acksLast10s / 10,
    }
  }

  async patterns(name: string): Promise<readonly string[] | undefined> {
    return (this.live.get(name) ?? (await this.refresh(name)))?.config.streams
  }

  async put(name: string, spec: GroupSpec): Promise<{ view: GroupView; isNew: boolean }> {
    assertGroupName(name)
    for (const p of spec.streams ?? []) assertPattern(p)
    const put: GroupPut = {
      change: {
        ...(spec.streams && { streams: spec.streams }),
        ...(spec.types !== undefined && { types: spec.types && spec.types.length > 0 ? spec.types : null }),
        ...(spec.ackTimeoutSec !== undefined && { ackTimeoutSec: spec.ackTimeoutSec }),
        ...(spec.maxDeliveries !== undefined && { maxDeliveries: spec.maxDeliveries }),
        ...(spec.ordering !== undefined && { ordering: spec.ordering }),
      },
    }
    if (spec.streams && spec.streams.length > 0) {
      const start = spec.start ?? 'latest'
      const { createdMs: _, ...create } = createdConfig({ ...spec, streams: spec.streams, start }, start === 'earliest' ? this.prunedThrough(spec.streams) : 0)
      put.create = create
    }
    const r = await this.store.put(name, put)
    if (r.kind === 'missing') throw refusals.needsStreams()
    if (r.kind === 'start_after_last') throw refusals.startAfterLast(spec.start as number, r.lastId)
    this.adopt(r.group)
    return { view: await this.view(name), isNew: r.isNew }
  }

  async delete(name: string): Promise<boolean> {
    const existed = await this.store.delete(name)
    const live = this.live.get(name)
    if (live) this.drop(live)
    return existed
  }

  async claim(name: string, consumer: string, max: number, waitMs: number, signal?: AbortSignal): Promise<Claimed[]> {
    return (await this.entry(name)).claim(consumer, max, waitMs, signal)
  }

  async ack(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled> {
    const { ok, notHeld } = await (await this.entry(name)).settle(consumer, ids, { op: 'ack' })
    return { ok, notHeld }
  }

  async nack(name: string, consumer: string | null, ids: readonly number[], delaySec = 0): Promise<Settled> {
    const { ok, notHeld } = await (await this.entry(name)).settle(consumer, ids, { op: 'nack', delayMs: delaySec * 1000 })
    return { ok, notHeld }
  }

  async extend(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled & { deadlineMs: number }> {
    return (await this.entry(name)).settle(consumer, ids, { op: 'extend' })
  }

  async term(name: string, consumer: string | null, ids: readonly number[], reason = 'terminated by consumer'): Promise<Settled> {
    const { ok, notHeld } = await (await this.entry(name)).settle(consumer, ids, { op: 'term', reason })
    return { ok, notHeld }
  }

  async consume(name: string, consumer: string, max: number, send: (d: Claimed) => void, ended: () => void): Promise<PushHandle> {
    return (await this.entry(name)).consume(consumer, max, send, ended)
  }

  async replay(name: string, ids?: readonly number[]): Promise<ReplayResult> {
    return this.deadLetters.replay(await this.entry(name), ids)
  }

  async stop(): Promise<void> {
    if (this.isStopped) return
    this.isStopped = true
    await Promise.all([...this.live.values()].map((g) => g.stop()))
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    await this.deadLetters.settled()
  }

  private async entry(name: string): Promise<SharedGroup> {
    if (this.isStopped) throw refusals.stopping()
    const group = this.live.get(name) ?? (await this.refresh(name))
    if (!group) throw refusals.noSuchGroup(name)
    return group
  }

  /** Reads one group again, one read at a time per name so two never attach twice. */
  private refresh(name: string): Promise<SharedGroup | undefined> {
    const before = this.refreshing.get(name) ?? Promise.resolve(undefined)
    const next = before
      .catch(() => undefined)
      .then(async () => {
        const stored = await this.store.group(name)
        if (stored) return this.adopt(stored)
        const live = this.live.get(name)
        if (live) this.drop(live)
        return undefined
      })
    this.refreshing.set(name, next)
    void next.finally(() => this.refreshing.get(name) === next && this.refreshing.delete(name)).catch(() => {})
    return next
  }

  /** The keeper of a stored group: the one there is, reconfigured, or a new one for a new incarnation. */
  private adopt(stored: StoredGroup): SharedGroup {
    const live = this.live.get(stored.name)
    if (live && live.config.createdMs === stored.config.createdMs) {
      if (live.version !== stored.version && Number(stored.version) > Number(live.version)) live.reconfigure(stored)
      return live
    }
    if (live) this.drop(live)
    const group = new SharedGroup(stored.name, stored, this.context)
    this.live.set(stored.name, group)
    return group
  }

  private drop(group: SharedGroup): void {
    if (this.live.get(group.name) === group) this.live.delete(group.name)
    group.detach()
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.onError('group operation failed', error)).finally(() => this.inFlight.delete(tracked))
    this.inFlight.add(tracked)
  }

  /** Publishes the letters of what the store found dead (events read here, ring first), then settles them. */
  private async bury(group: SharedGroup, dead: readonly HandedOut[]): Promise<void> {
    try {
      const events = await eventsOf(this.hub, dead)
      const lost = dead.filter((d) => !events.has(d.id)).map((d) => d.id)
      if (lost.length > 0) await this.store.forget(group.name, group.config.createdMs, lost)
      const letters = dead.filter((d) => events.has(d.id)).map((d) => ({ id: d.id, event: events.get(d.id)!, attempt: d.attempt, reason: d.reason }))
      await this.deadLetters.bury(group, letters)
    } catch (error) {
      this.onError('dead letters failed; another look buries them again', error)
    }
  }

  private prunedThrough(patterns: readonly string[]): number {
    let max = 0
    for (const s of this.hub.streamsMatching(patterns)) if (s.record.prunedThrough > max) max = s.record.prunedThrough
    return max
  }
}
