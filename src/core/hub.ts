import { RingcastError } from './errors'
import type { Event } from './event'
import { FanOut } from './fan-out'
import type { Feed, Subscriber } from './feed'
import type { Filter, Selector } from './filter'
import { Follower } from './follower'
import { type Catalog, type Change, type EventLog, isShared, type LogHealth, type StreamPatch, type Write } from './log'
import { type CommitStats, type Pending, Pipeline, type PublishItem, type PublishResult } from './pipeline'
import { type ReadResult, Reader } from './reader'
import { Retention, type RetentionOptions } from './retention'
import { eventFromRow, type StreamDefault, StreamRegistry, type StreamSettings, type StreamState, type StreamView } from './streams'
import { type FollowHub, type FollowSink, Subscription } from './subscription'

export interface HubOptions {
  defaults: StreamSettings
  patternDefaults?: readonly StreamDefault[]
  dedupWindowSeconds: number
  /** Most streams kept; creating one more is refused. */
  maxStreams?: number
}

/** Observers the hub reports to (metrics, logs); all optional and called synchronously. */
export interface HubHooks {
  /** After each group commit and its fan-out. */
  committed?(stats: CommitStats): void
  /** Something failed inside the publish pipeline; the publishes it hit were answered with an error, the hub goes on. */
  failed?(message: string, error: unknown): void
  /** Streams that just closed or were deleted, after their last events went out. */
  ended?(streams: readonly string[]): void
  /** Events retention removed. */
  pruned?(events: number): void
  /** The hub started again from the shared log: live connections should end so their clients resume. */
  reloaded?(): void
  /** A shared log went out of reach (publishes fail until it is back) or came back. */
  reachable?(isReachable: boolean, reason: string): void
  /** A `signal` change of a shared log, in log order with the events around it. */
  signal?(name: string): void
}

/**
 * Publish pipeline, stream changes and fan-out over an event log. Requests of one event-loop turn
 * become one append (group commit); what the log committed is applied in log order: rings, counters,
 * then subscribers. Replay and the switch to live belong to `follow`, so the log may be asynchronous.
 */
export class Hub {
  private readonly streams: StreamRegistry
  private readonly reader: Reader
  private readonly fanOut: FanOut
  private retention: Retention | undefined
  private readonly pipeline: Pipeline
  private applied = 0
  /** On a shared log: applies what every node commits, in the log's order. */
  private follower: Follower | undefined
  // Shared by every subscription: a long-poll follows once per round trip.
  private readonly followHub: FollowHub = {
    read: (filter, after, limit) => this.read(filter, after, limit),
    subscribe: (filter, subscriber) => this.subscribe(filter.selector, subscriber),
    unsubscribe: (feed, subscriber) => this.unsubscribe(feed, subscriber),
    isClosed: (filter) => this.isClosed(filter),
  }

  private constructor(
    private readonly log: EventLog,
    private readonly options: HubOptions,
    readonly hooks: HubHooks,
  ) {
    this.streams = new StreamRegistry(options.defaults, options.patternDefaults ?? [])
    this.reader = new Reader(log, this.streams, () => this.applied, (state) => this.retention?.changed(state))
    this.fanOut = new FanOut((error) => this.hooks.failed?.('a subscriber failed to take a batch', error))
    this.pipeline = new Pipeline(log, options.dedupWindowSeconds, {
      plan: (p) => this.plan(p),
      apply: (changes) => this.apply(changes),
      settled: (position) => this.follower?.settled(position) ?? Promise.resolve(),
      committed: (stats) => this.hooks.committed?.(stats),
      failed: (message, error) => this.hooks.failed?.(message, error),
    })
  }

  /** A hub over the log, with every stream the log knows. */
  static async open(log: EventLog, options: HubOptions, hooks: HubHooks = {}): Promise<Hub> {
    const hub = new Hub(log, options, hooks)
    const catalog = await log.open()
    hub.load(catalog)
    if (isShared(log)) {
      hub.follower = new Follower(log, {
        lastId: () => hub.applied,
        apply: (changes) => void hub.apply(changes),
        reload: (reloaded) => {
          for (const state of hub.streams.all()) state.ring = undefined
          hub.load(reloaded)
          hub.hooks.reloaded?.()
        },
        failed: (message, error) => hub.hooks.failed?.(message, error),
        reachable: (isReachable, reason) => hub.hooks.reachable?.(isReachable, reason),
      })
      hub.follower.start(catalog)
    }
    return hub
  }

  /** Takes what the log holds: streams, their records and counts, the last id. */
  private load(catalog: Catalog): void {
    this.applied = Math.max(this.applied, catalog.lastId)
    const known = new Set<string>()
    for (const { record, stats } of catalog.streams) {
      // An ephemeral stream's ring died with the last process: everything issued before now is gone.
      if (record.ephemeral) record.prunedThrough = Math.max(record.prunedThrough, catalog.lastId)
      const state = this.streams.load(record, record.ephemeral ? undefined : stats)
      this.retention?.changed(state)
      known.add(record.name)
    }
    for (const state of [...this.streams.all()]) if (!known.has(state.name) && state.isStored) this.streams.remove(state.name)
  }

  /** Highest id this hub has applied, over all streams. */
  get lastId(): number {
    return this.applied
  }

  /** Resolves once the events are committed and fanned out; rejects with stream_closed if the stream is closed. */
  async publish(stream: string, items: readonly PublishItem[]): Promise<PublishResult[]> {
    const { outcome, built } = await this.pipeline.submit(stream, { kind: 'publish', items })
    if (outcome.kind !== 'published') throw new RingcastError('internal', 'The log answered a publish with no events.')
    const results: PublishResult[] = outcome.items.map((r) => (r.duplicate ? { id: r.id, event: built.get(r.id), duplicate: true } : { event: built.get(r.id)!, duplicate: false }))
    const originals = results.filter((r) => r.duplicate && !r.event).map((r) => (r as { id: number }).id)
    if (originals.length > 0) {
      const found = new Map((await this.reader.events(stream, originals)).map((e) => [e.id, e]))
      for (const r of results) if (r.duplicate && !r.event) r.event = found.get(r.id)
    }
    return results
  }

  /** Marks a stream closed, in order with publishes: subscribers naming it get everything before, then end. */
  async close(stream: string): Promise<void> {
    await this.pipeline.submit(stream, { kind: 'close' })
  }

  /** Applies new settings to a stream, creating it if needed. */
  async configure(name: string, patch: StreamPatch): Promise<StreamView> {
    const state = this.streams.get(name)
    if (state && patch.ephemeral !== undefined && patch.ephemeral !== state.record.ephemeral && state.events > 0) {
      // Its history lives in one place (log or ring); moving it silently would lose or strand events.
      throw new RingcastError('conflict', `Stream "${name}" has events; it cannot become ${patch.ephemeral ? 'ephemeral' : 'persistent'} now.`, 'Delete it first, or configure a new stream.')
    }
    await this.pipeline.submit(name, { kind: 'configure', patch })
    return this.streams.get(name)!
  }

  /** Deletes a stream and its history; subscriptions naming exactly it end. */
  async delete(name: string): Promise<boolean> {
    if (!this.streams.get(name)) return false
    await this.pipeline.submit(name, { kind: 'delete' })
    return true
  }

  /**
   * Every event matching `filter` after `position` (null: from now on), once and in id order, then
   * live, through `sink`; gap and reset are decided here. `connections` is what it counts as.
   */
  follow(filter: Filter, position: number | null, sink: FollowSink, connections = 1): Subscription {
    return new Subscription(this.followHub, filter, sink, connections).start(position)
  }

  /** Attaches a live subscriber; from now on it receives every committed event its selector matches. */
  subscribe(selector: Selector, subscriber: Subscriber): Feed {
    return this.fanOut.subscribe(selector, subscriber)
  }

  unsubscribe(feed: Feed, subscriber: Subscriber): void {
    this.fanOut.unsubscribe(feed, subscriber)
  }

  /** Matching events with id > afterId, oldest first, at most `limit`; a gap or reset when the position calls for one. */
  read(filter: Filter, afterId: number, limit: number): Promise<ReadResult> {
    return this.reader.read(filter, afterId, limit)
  }

  /** The newest `limit` matching events (with id < `beforeId` when given), oldest first. */
  tail(filter: Filter, limit: number, beforeId?: number): Promise<Event[]> {
    return this.reader.tail(filter, limit, beforeId)
  }

  /** A position just before the first matching event at or after `timeMs`. */
  positionAt(filter: Filter, timeMs: number): Promise<number> {
    return this.reader.positionAt(filter, timeMs)
  }

  /** Stored events of one stream by id, those retention kept. */
  events(stream: string, ids: readonly number[]): Promise<Event[]> {
    return this.reader.events(stream, ids)
  }

  stream(name: string): StreamView | undefined {
    return this.streams.get(name)
  }

  /** Every known stream, or those `patterns` select. */
  streamsMatching(patterns?: readonly string[]): StreamView[] {
    return patterns ? this.streams.matching(patterns) : [...this.streams.all()]
  }

  /** Whether every stream a filter names exactly is closed (a pattern filter never is). */
  isClosed(filter: Filter): boolean {
    if (!filter.isExact) return false
    // Asked at least twice per long-poll round trip: a loop, not a closure for every().
    for (const name of filter.patterns) if (this.streams.get(name)?.record.closed !== true) return false
    return true
  }

  /** Connections whose selectors match the stream. */
  subscriberCount(stream: string): number {
    return this.fanOut.subscriberCount(stream)
  }

  /** Streams known, without walking them (sampled every second). */
  get streamCount(): number {
    return this.streams.size
  }

  /** How much the hub holds, for metrics (walks every stream). */
  stats(): { streams: number; rings: number; ringEvents: number; lastId: number } {
    let rings = 0
    let ringEvents = 0
    for (const s of this.streams.all()) {
      if (!s.ring) continue
      rings++
      ringEvents += s.ring.size
    }
    return { streams: this.streams.size, rings, ringEvents, lastId: this.applied }
  }

  /** Highest id the log issued: on a shared log, possibly ahead of what this node applied. */
  head(): Promise<number> {
    return isShared(this.log) ? this.log.head() : Promise.resolve(this.applied)
  }

  /** Whether the log would take a write now (readiness). */
  isWritable(): Promise<boolean> {
    return isHealthReporting(this.log) ? this.log.isWritable() : Promise.resolve(true)
  }

  /** Bytes the log holds, when it knows. */
  logBytes(): number {
    return isHealthReporting(this.log) ? this.log.sizeBytes() : 0
  }

  /** Starts background retention (pruning, forgetting keys, evicting idle rings). */
  startRetention(options: Omit<RetentionOptions, 'dedupWindowSeconds'>, intervalMs = 250): void {
    this.retention = new Retention(this.log, this.streams, { ...options, dedupWindowSeconds: this.options.dedupWindowSeconds }, {
      apply: (change) => this.apply([change]),
      isWatched: (stream) => this.fanOut.isWatched(stream),
      pruned: (n) => this.hooks.pruned?.(n),
      // The log being away is reported once by the follower, not by every pass.
      failed: (error) => (error as RingcastError)?.code !== 'unavailable' && this.hooks.failed?.('retention pass failed', error),
    })
    this.retention.start(intervalMs)
  }

  /** One retention pass now; resolves with the events it removed (tests and shutdown). */
  prune(nowMs?: number): Promise<number> {
    return this.retention?.pass(nowMs) ?? Promise.resolve(0)
  }

  /** Stops retention and commits whatever is pending (used on shutdown). */
  async drain(): Promise<void> {
    this.retention?.stop()
    await this.pipeline.drain()
  }

  /** Stops following a shared log (after drain, at shutdown). */
  detach(): void {
    this.follower?.stop()
  }

  /** The write for one request, or null when it is answered without one; throws what refuses it alone. */
  private plan(p: Pending): Write | null {
    const { stream, request } = p
    if (request.kind === 'delete') return { kind: 'delete', stream }
    const state = this.stateOf(stream)
    const create = state.isStored ? undefined : { ...state.record }
    if (request.kind === 'close') return { kind: 'close', stream, create }
    if (request.kind === 'configure') return { kind: 'configure', stream, create, patch: request.patch }
    if (state.record.closed) throw new RingcastError('stream_closed', `Stream "${stream}" is closed.`, 'A closed stream takes no more events; publish to a new stream.')
    let items
    try {
      // The one step that can fail on one publish's own data: it fails alone, before it joins the batch.
      items = request.items.map((item) => ({ type: item.type, data: JSON.stringify(item.data), key: item.key, correlationId: item.correlationId, terminal: item.terminal }))
    } catch (error) {
      throw new RingcastError('invalid_body', `The event data cannot be stored as JSON: ${(error as Error).message}`, 'Send plain JSON data.')
    }
    return { kind: 'publish', stream, create, items }
  }

  /** Applies committed changes in order: rings and counters, then subscribers; returns the events it built, by id. */
  private apply(changes: readonly Change[]): Map<number, Event> {
    const built = new Map<number, Event>()
    const ended: string[] = []
    let batch: Event[] = []
    const deliver = () => {
      this.fanOut.deliver(batch)
      batch = []
    }
    for (const change of changes) {
      switch (change.kind) {
        case 'event': {
          const { row } = change
          const event = eventFromRow(row)
          built.set(row.id, event)
          const state = this.streams.get(row.stream) ?? this.streams.getOrCreate(row.stream)
          this.appendTo(state, event)
          this.retention?.changed(state)
          if (row.id > this.applied) this.applied = row.id
          batch.push(event)
          break
        }
        case 'stream': {
          const wasClosed = this.streams.get(change.record.name)?.record.closed === true
          const state = this.streams.load(change.record)
          this.retention?.changed(state)
          if (change.record.closed && !wasClosed) {
            // Events before a close reach their subscribers before it ends them.
            deliver()
            ended.push(change.record.name)
            this.fanOut.endExact(change.record.name, (feed) => feed.selector.exactStreams().every((s) => this.streams.get(s)?.record.closed))
          }
          break
        }
        case 'delete':
          deliver()
          this.streams.remove(change.stream)
          this.fanOut.endExact(change.stream, () => true)
          ended.push(change.stream)
          break
        case 'prune': {
          const state = this.streams.get(change.stream)
          if (!state) break
          state.ring?.dropThrough(change.throughId)
          state.record.prunedThrough = Math.max(state.record.prunedThrough, change.throughId)
          state.counted(change.stats)
          this.retention?.changed(state)
          break
        }
        case 'signal':
          this.hooks.signal?.(change.name)
          break
      }
    }
    deliver()
    if (ended.length > 0) this.hooks.ended?.(ended)
    return built
  }

  /** Puts a committed event in its stream's ring; an ephemeral ring's overflow is its retention. */
  private appendTo(state: StreamState, event: Event): void {
    // A new stream's ring is set at once (empty, covering everything); an evicted one is rebuilt from the log, this event included.
    if (!state.ring && !state.loading) this.reader.ringFor(state).catch((error) => this.hooks.failed?.('a ring could not be rebuilt', error))
    const ring = state.ring
    if (ring && (event.id > ring.lastId || ring.size === 0)) {
      const evicted = ring.push(event)
      if (evicted && state.record.ephemeral) {
        state.record.prunedThrough = evicted.id
        state.events--
        state.firstId = ring.firstId ?? null
      }
    } else if (!ring) state.loading?.applied.push(event)
    state.appended(event)
  }

  /** The stream's state, created in memory if new, unless that would pass --max-streams. */
  private stateOf(name: string): StreamState {
    const known = this.streams.get(name)
    if (known) return known
    const max = this.options.maxStreams ?? Number.POSITIVE_INFINITY
    if (this.streams.size >= max) {
      throw new RingcastError('too_many_streams', `The server holds its maximum of ${max} streams; "${name}" would be one more.`, 'Delete streams that are done (DELETE /v1/streams/{stream}), or raise --max-streams.')
    }
    return this.streams.getOrCreate(name)
  }
}

export type { CommitStats, PublishItem, PublishResult, StreamView }

function isHealthReporting(log: EventLog): log is EventLog & LogHealth {
  return 'isWritable' in log
}

