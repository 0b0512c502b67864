import { RingcastError } from './errors'
import { type Envelope, Event } from './event'
import { Feed, type Subscriber } from './feed'
import { type Filter, Selector } from './filter'
import { PatternIndex } from './pattern-index'
import type { Log, LogRow, StreamRecord } from './log'
import { Reader } from './reader'
import { envelopeJson, eventFromRow, type StreamDefault, StreamRegistry, type StreamSettings, type StreamState } from './streams'

/** One event to publish, already validated. */
export interface PublishItem {
  type: string
  data: unknown
  key?: string
  correlationId?: string
  terminal?: boolean
}

/** What a publish returns per item: the stored event, or the original id for a dedup hit. */
export type PublishResult = { event: Event; duplicate: false } | { id: number; event: Event | undefined; duplicate: true }

export interface HubOptions {
  defaults: StreamSettings
  patternDefaults?: readonly StreamDefault[]
  dedupWindowSeconds: number
  /** Most streams kept; creating one more is refused. */
  maxStreams?: number
}

/** What one group commit did, for metrics. */
export interface CommitStats {
  events: number
  /** Publishes (requests, WebSocket frames, dead letters) answered with their stored events. */
  publishes: number
  duplicates: number
  /** From the first publish of the batch until committed and fanned out. */
  latencyMs: number
}

/** Observers the hub reports to (metrics, logs); all optional and called synchronously. */
export interface HubHooks {
  /** After each group commit and its fan-out. */
  committed?(stats: CommitStats): void
  /** Something failed inside the publish pipeline; the publishes it hit were answered with an error, the hub goes on. */
  failed?(message: string, error: unknown): void
  /** Streams that just closed or were deleted, after their last events went out. */
  ended?(streams: readonly string[]): void
}

interface Pending {
  stream: string
  items: readonly PublishItem[] | null // null: a close request
  resolve(results: PublishResult[]): void
  reject(error: unknown): void
}

/**
 * Publish pipeline and fan-out. Publishes of one event-loop turn share one log transaction;
 * only after it commits are events put in rings and handed to subscribers, in id order.
 */
export class Hub {
  readonly streams: StreamRegistry
  readonly reader: Reader
  private pending: Pending[] = []
  private flushScheduled = false
  private pendingSinceMs = 0
  private readonly feeds = new Map<string, Feed>()
  /** Every feed under each of its patterns: an event finds its feeds in O(its tokens + matches). */
  private readonly index = new PatternIndex<Feed>()
  /** Feeds whose selectors name only plain streams, by stream: they end when those streams close. */
  private readonly exactIndex = new Map<string, Set<Feed>>()
  private lastIssued: number

  constructor(
    readonly log: Log,
    private readonly options: HubOptions,
    readonly hooks: HubHooks = {},
  ) {
    this.streams = new StreamRegistry(log, options.defaults, options.patternDefaults ?? [])
    this.reader = new Reader(log, this.streams, () => this.lastIssued)
    this.lastIssued = log.lastId()
  }

  /** Highest id ever issued, over all streams. */
  get lastId(): number {
    return this.lastIssued
  }

  /** Resolves once the events are committed and fanned out; rejects with stream_closed if the stream is closed. */
  publish(stream: string, items: readonly PublishItem[]): Promise<PublishResult[]> {
    return this.enqueue(stream, items)
  }

  /** Marks a stream closed, in order with publishes: subscribers naming it get everything before, then end. */
  async close(stream: string): Promise<void> {
    await this.enqueue(stream, null)
  }

  /** Attaches a live subscriber; from now on it receives every committed event its selector matches. */
  subscribe(selector: Selector, subscriber: Subscriber): Feed {
    let feed = this.feeds.get(selector.key)
    if (!feed) {
      feed = new Feed(selector)
      this.feeds.set(selector.key, feed)
      for (const pattern of selector.allPatterns()) this.index.add(pattern, feed)
      if (selector.isExact) {
        for (const name of selector.exactStreams()) {
          let set = this.exactIndex.get(name)
          if (!set) this.exactIndex.set(name, (set = new Set()))
          set.add(feed)
        }
      }
    }
    feed.members.add(subscriber)
    return feed
  }

  unsubscribe(feed: Feed, subscriber: Subscriber): void {
    feed.members.delete(subscriber)
    if (feed.members.size > 0 || this.feeds.get(feed.selector.key) !== feed) return
    this.feeds.delete(feed.selector.key)
    for (const pattern of feed.selector.allPatterns()) this.index.delete(pattern, feed)
    if (feed.selector.isExact) for (const name of feed.selector.exactStreams()) {
      const set = this.exactIndex.get(name)
      set?.delete(feed)
      if (set?.size === 0) this.exactIndex.delete(name)
    }
  }

  /** How much the hub holds, for metrics and the dashboard. */
  stats(): { streams: number; rings: number; ringEvents: number; lastId: number } {
    let rings = 0
    let ringEvents = 0
    for (const s of this.streams.all()) {
      if (!s.ring) continue
      rings++
      ringEvents += s.ring.size
    }
    return { streams: this.streams.size, rings, ringEvents, lastId: this.lastIssued }
  }

  /** Connections whose selectors match the stream. */
  subscriberCount(stream: string): number {
    const feeds = new Set<Feed>()
    this.index.match(stream, (feed) => feeds.add(feed))
    let n = 0
    for (const feed of feeds) n += feed.connections
    return n
  }

  /** Whether every stream a filter names exactly is closed (a pattern filter never is). */
  isClosed(filter: Filter): boolean {
    if (!filter.isExact) return false
    return filter.patterns.every((name) => this.streams.get(name)?.record.closed === true)
  }

  /** Applies new settings to a stream, creating it if needed. */
  configure(name: string, patch: Partial<Pick<StreamRecord, 'ringSize' | 'maxEvents' | 'maxAgeSeconds' | 'ephemeral'>>): StreamState {
    const state = this.stateOf(name)
    if (patch.ephemeral !== undefined && patch.ephemeral !== state.record.ephemeral && state.events > 0) {
      // Its history lives in one place (log or ring); moving it silently would lose or strand events.
      throw new RingcastError('conflict', `Stream "${name}" has events; it cannot become ${patch.ephemeral ? 'ephemeral' : 'persistent'} now.`, 'Delete it first, or configure a new stream.')
    }
    Object.assign(state.record, patch)
    this.log.saveStream(state.record)
    this.streams.refresh(state)
    return state
  }

  /** Deletes a stream and its history; subscriptions naming exactly it end. */
  delete(name: string): boolean {
    const state = this.streams.get(name)
    if (!state) return false
    this.log.deleteStream(name)
    this.streams.remove(name)
    this.endExact(name, () => true)
    this.hooks.ended?.([name])
    return true
  }

  /** Commits whatever is pending now (used on shutdown). */
  flushNow(): void {
    if (this.pending.length > 0) this.flush()
  }

  private enqueue(stream: string, items: readonly PublishItem[] | null): Promise<PublishResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, items, resolve, reject })
      if (!this.flushScheduled) {
        this.flushScheduled = true
        this.pendingSinceMs = performance.now()
        // setImmediate runs after this turn's I/O callbacks: every publish parsed in this turn joins the batch.
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.flushScheduled = false
    const pending = this.pending
    this.pending = []
    try {
      this.commitBatch(pending)
    } catch (error) {
      // Nothing was committed (a failure after the commit is caught inside): every publish of the batch is refused.
      this.hooks.failed?.('publish batch failed before commit', error)
      const failure = new RingcastError('internal', 'The server failed to store this batch; nothing was stored.', 'Retry the publish.')
      for (const p of pending) p.reject(failure)
    }
  }

  private commitBatch(pending: Pending[]): void {
    const nowMs = Date.now()
    const time = new Date(nowMs).toISOString()
    const dedupSince = nowMs - this.options.dedupWindowSeconds * 1000
    const rows: LogRow[] = []
    const keys: { stream: string; key: string; id: number; timeMs: number }[] = []
    const changed = new Map<string, StreamState>()
    const closing = new Set<string>()
    const batchKeys = new Map<string, number>()
    const fresh: Event[] = []
    const outcomes: (PublishResult[] | RingcastError)[] = []
    let id = this.lastIssued

    for (const p of pending) {
      let state: StreamState
      try {
        state = this.stateOf(p.stream)
      } catch (error) {
        outcomes.push(error as RingcastError)
        continue
      }
      if (state.record.closed || closing.has(p.stream)) {
        outcomes.push(p.items === null ? [] : new RingcastError('stream_closed', `Stream "${p.stream}" is closed.`, 'A closed stream takes no more events; publish to a new stream.'))
        continue
      }
      let datas: string[] = []
      if (p.items !== null) {
        try {
          // The one step that can fail on one publish's own data: it fails alone, before it touches the batch.
          datas = p.items.map((item) => JSON.stringify(item.data))
        } catch (error) {
          outcomes.push(new RingcastError('invalid_body', `The event data cannot be stored as JSON: ${(error as Error).message}`, 'Send plain JSON data.'))
          continue
        }
      }
      if (!state.isStored) changed.set(p.stream, state)
      if (p.items === null) {
        closing.add(p.stream)
        changed.set(p.stream, state)
        outcomes.push([])
        continue
      }
      const results: PublishResult[] = []
      for (let i = 0; i < p.items.length; i++) {
        const item = p.items[i]
        if (item.key !== undefined) {
          const dedupKey = `${p.stream}\u0000${item.key}`
          const original = batchKeys.get(dedupKey) ?? this.log.findKey(p.stream, item.key, dedupSince)
          if (original !== undefined) {
            results.push({ id: original, event: undefined, duplicate: true })
            continue
          }
          batchKeys.set(dedupKey, id + 1)
          keys.push({ stream: p.stream, key: item.key, id: id + 1, timeMs: nowMs })
        }
        id++
        const env: Envelope = { id, stream: p.stream, type: item.type, data: undefined, time }
        if (item.key !== undefined) env.key = item.key
        if (item.correlationId !== undefined) env.correlationId = item.correlationId
        const event = new Event(env, envelopeJson(env, datas[i]))
        if (!state.record.ephemeral) {
          rows.push({ id, stream: p.stream, type: item.type, data: datas[i], timeMs: nowMs, key: item.key ?? null, correlationId: item.correlationId ?? null })
        }
        fresh.push(event)
        results.push({ event, duplicate: false })
        if (item.terminal) {
          closing.add(p.stream)
          changed.set(p.stream, state)
          break
        }
      }
      outcomes.push(results)
    }

    const records = [...changed.values()].map((s) => (closing.has(s.name) ? { ...s.record, closed: true } : s.record))
    try {
      this.log.commit({ rows, keys, streams: records, lastId: id })
    } catch (error) {
      this.hooks.failed?.('the event log could not commit', error)
      const failure = new RingcastError('unavailable', `The event log could not commit: ${(error as Error).message}`, 'Nothing was stored; retry the publish.')
      for (const p of pending) p.reject(failure)
      return
    }
    this.lastIssued = id
    try {
      this.applyCommitted(changed, closing, fresh)
    } catch (error) {
      // Committed: the publishes succeeded whatever a subscriber did with them.
      this.hooks.failed?.('fan-out after commit failed', error)
    }

    let publishes = 0
    let duplicates = 0
    for (let i = 0; i < pending.length; i++) {
      const outcome = outcomes[i]
      if (outcome instanceof RingcastError) pending[i].reject(outcome)
      else {
        if (pending[i].items !== null) publishes++
        for (const r of outcome) if (r.duplicate) duplicates++
        pending[i].resolve(this.withOriginals(outcome, fresh))
      }
    }
    this.hooks.committed?.({ events: fresh.length, publishes, duplicates, latencyMs: performance.now() - this.pendingSinceMs })
  }

  /** Committed events into rings and out to subscribers; closed streams end their exact subscriptions. */
  private applyCommitted(changed: Map<string, StreamState>, closing: Set<string>, fresh: Event[]): void {
    for (const state of changed.values()) state.isStored = true
    for (const name of closing) this.streams.get(name)!.record.closed = true
    for (const event of fresh) this.append(event)
    this.fanOut(fresh)
    for (const name of closing) this.endExact(name, (feed) => feed.selector.exactStreams().every((s) => this.streams.get(s)?.record.closed))
    if (closing.size > 0) this.hooks.ended?.([...closing])
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

  /** Puts a committed event in its stream's ring; an ephemeral ring's overflow is its retention. */
  private append(event: Event): void {
    const state = this.streams.get(event.stream)!
    const ring = this.streams.ring(state)
    if (event.id > ring.lastId || ring.size === 0) {
      const evicted = ring.push(event)
      if (evicted && state.record.ephemeral) {
        state.record.prunedThrough = evicted.id
        state.events--
        state.firstId = ring.firstId ?? null
      }
    }
    state.appended(event)
  }

  private fanOut(events: readonly Event[]): void {
    if (events.length === 0 || this.feeds.size === 0) return
    const perFeed = new Map<Feed, Event[]>()
    for (const event of events) this.index.match(event.stream, (feed) => this.collect(perFeed, feed, event))
    for (const [feed, matched] of perFeed) feed.deliver(matched, this.onSubscriberError)
  }

  private readonly onSubscriberError = (error: unknown) => this.hooks.failed?.('a subscriber failed to take a batch', error)

  private collect(perFeed: Map<Feed, Event[]>, feed: Feed, event: Event): void {
    const list = perFeed.get(feed)
    // A feed reached through several of its patterns must still get each event once.
    if (list?.[list.length - 1] === event || !feed.selector.matches(event)) return
    if (list) list.push(event)
    else perFeed.set(feed, [event])
  }

  private endExact(stream: string, shouldEnd: (feed: Feed) => boolean | undefined): void {
    for (const feed of [...(this.exactIndex.get(stream) ?? [])]) if (shouldEnd(feed)) feed.end()
  }

  private withOriginals(results: PublishResult[], fresh: readonly Event[]): PublishResult[] {
    for (const r of results) {
      if (!r.duplicate || r.event) continue
      r.event = fresh.find((e) => e.id === r.id) ?? this.findEvent(r.id)
    }
    return results
  }

  private findEvent(id: number): Event | undefined {
    const row = this.log.get(id)
    if (row) return eventFromRow(row)
    for (const state of this.streams.all()) {
      const hit = state.ring?.since(id - 1, 1)[0]
      if (hit?.id === id) return hit
    }
    return undefined
  }
}
