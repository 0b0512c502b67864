import { RingcastError } from '../core/errors'
import type { Batch } from '../core/feed'
import { type Filter, Selector } from '../core/filter'
import type { FollowSink, Subscription } from '../core/subscription'
import { type Connection, connectionId } from './connections'
import type { TopicMember, TopicSink } from './topic-sink'
import { MIN_COMPRESS_BYTES, type WsPublish, type WsSubscribe } from './wire'
import type { WsClientContext, WsIdentity, WsSocket } from './ws-context'

/** Close code for a socket that fell past its buffer limit; it should reconnect and resubscribe with `after`. */
export const CLOSE_SLOW = 4008
/** Close code for a socket without a valid token (refused at connect, or expired): reconnect with a fresh one. */
export const CLOSE_UNAUTHORIZED = 4001

/** An `error` frame: the problem an error stands for (a RingcastError's code, message and hint; anything else is internal). */
export function errorFrame(ids: { ref?: string; sub?: string; group?: string }, error: unknown): object {
  const e = error instanceof RingcastError ? error : new RingcastError('internal', 'Internal error.')
  return { op: 'error', ...ids, error: { code: e.code, message: e.message, ...(e.hint && { hint: e.hint }), ...e.extra } }
}

/** A consume subscription as the socket holds it (its deliveries come from the group). */
export interface ConsumeEntry {
  readonly group: string
  readonly consumer: string
  close(): void
}

/** One sub id of a socket: events (replaying, then live in the socket's topic) or a consumer-group consume. */
type Entry = { kind: 'events'; filter: Filter; replay: Subscription | undefined } | ({ kind: 'consume' } & ConsumeEntry)

/** One WebSocket: one registry of its sub ids, their replays, and its place in one shared topic. */
export class WsClient implements Connection, TopicMember {
  readonly id = connectionId('ws')
  readonly transport = 'ws'
  readonly connectedAt = Date.now()
  private readonly subs = new Map<string, Entry>()
  private sink: TopicSink | undefined
  private sinkMark = 0
  private ownDelivered = 0
  private ownLastEventAt: number | null = null
  private waiters: (() => void)[] = []
  private isClosed = false

  readonly client: string
  readonly expiresAtMs: number | null

  constructor(
    private readonly context: WsClientContext,
    private readonly socket: WsSocket,
    readonly remote: string,
    readonly identity: WsIdentity,
  ) {
    this.client = identity.client
    this.expiresAtMs = identity.expiresAtMs
  }

  get delivered(): number {
    return this.ownDelivered + (this.sink ? this.sink.sent - this.sinkMark : 0)
  }

  get lastEventAt(): number | null {
    const shared = this.sink?.lastEventAt ?? null
    return shared !== null && (this.ownLastEventAt === null || shared > this.ownLastEventAt) ? shared : this.ownLastEventAt
  }

  patterns(): string[] {
    const all = new Set<string>()
    for (const entry of this.subs.values()) if (entry.kind === 'events') for (const p of entry.filter.patterns) all.add(p)
    return [...all]
  }

  bufferedBytes(): number {
    return this.isClosed ? 0 : this.socket.getBufferedAmount()
  }

  bufferedAmount(): number {
    return this.bufferedBytes()
  }

  /** Throws unless `sub` is free and the socket may hold one more subscription. */
  checkSub(sub: string): void {
    if (this.subs.has(sub)) throw new RingcastError('bad_request', `Subscription "${sub}" already exists.`, 'Unsubscribe it first or pick another sub id.')
    const max = this.context.options.maxSubscriptions
    if (this.subs.size >= max) throw new RingcastError('bad_request', `A socket may hold at most ${max} subscriptions.`, 'Use patterns to cover more streams with one subscription.')
  }

  subscribe(frame: WsSubscribe): void {
    this.checkSub(frame.sub)
    const { connections, rules, hub } = this.context
    connections.checkPatterns(this, frame.streams.length)
    const filter = rules.filter(this.identity, frame.streams, frame.types, frame.correlationId)
    connections.holdPatterns(this, filter.patterns.length)
    const entry: Entry = { kind: 'events', filter, replay: undefined }
    this.subs.set(frame.sub, entry)
    this.reply({ op: 'ok', sub: frame.sub })
    if (frame.after === undefined) return this.goLive(frame.sub, entry)
    entry.replay = hub.follow(filter, frame.after, this.replaySink(frame.sub, entry), 0)
  }

  /** Registers a consume subscription under `sub` (checked with `checkSub` first). */
  addConsumer(sub: string, consume: ConsumeEntry): void {
    this.subs.set(sub, { kind: 'consume', group: consume.group, consumer: consume.consumer, close: () => consume.close() })
  }

  /** This socket's consume subscriptions of a group. */
  consumersOf(group: string): ConsumeEntry[] {
    const out: ConsumeEntry[] = []
    for (const entry of this.subs.values()) if (entry.kind === 'consume' && entry.group === group) out.push(entry)
    return out
  }

  /** Ends a subscription of either kind; a consume one gives back what it holds. */
  unsubscribe(sub: string): void {
    const entry = this.subs.get(sub)
    if (!entry) throw new RingcastError('not_found', `No subscription "${sub}".`)
    this.drop(sub)
    if (entry.kind === 'events') this.regroup()
    this.reply({ op: 'ok', sub })
  }

  /** A consume subscription ended from the group's side (the group was deleted). */
  consumeEnded(sub: string): void {
    if (this.subs.get(sub)?.kind !== 'consume') return
    this.subs.delete(sub)
    this.reply({ op: 'end', sub })
  }

  publish(frame: WsPublish): void {
    const ref = frame.ref
    this.context.rules.publish(this.identity, frame).then(
      (result) => this.reply({ op: 'ok', ...(ref !== undefined && { ref }), ...result }),
      (error) => this.error(ref !== undefined ? { ref } : {}, error),
    )
  }

  /** Ends live subscriptions whose exact streams have all closed or gone. */
  endClosed(streams: readonly string[]): void {
    const { hub } = this.context
    let changed = false
    for (const [sub, entry] of this.subs) {
      if (entry.kind !== 'events' || entry.replay || !entry.filter.isExact || !entry.filter.patterns.some((p) => streams.includes(p))) continue
      if (!hub.isClosed(entry.filter) && !entry.filter.patterns.every((p) => !hub.stream(p))) continue
      this.drop(sub)
      this.reply({ op: 'end', sub })
      changed = true
    }
    if (changed) this.regroup()
  }

  /** One consumer-group delivery frame (counted as a delivered event). */
  deliver(frame: string): void {
    this.send(frame, 1)
  }

  reply(message: object): void {
    this.send(JSON.stringify(message))
  }

  /** An `error` frame naming what it answers (`ref`, `sub`, or the `group` of a settle op). */
  error(ids: { ref?: string; sub?: string; group?: string }, error: unknown): void {
    this.reply(errorFrame(ids, error))
  }

  /** Past its buffer limit: closed with 4008 so the client resumes with `after`, never silently skipped. */
  overflow(): void {
    this.context.metrics.slowDisconnects.ws++
    this.close('buffer limit exceeded: resubscribe with after', CLOSE_SLOW)
  }

  /** The token expired: 4001 tells the client to reconnect with a fresh one and resubscribe with `after`. */
  expire(): void {
    this.close('token expired', CLOSE_UNAUTHORIZED)
  }

  close(reason: string, code = 1000): void {
    if (this.isClosed) return
    this.socket.close(code, reason)
    this.dispose()
  }

  drained(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /** Releases everything the socket holds: replays, topic, consumers' leases (for redelivery), its connection slot. */
  dispose(): void {
    if (this.isClosed) return
    this.isClosed = true
    for (const sub of [...this.subs.keys()]) this.drop(sub)
    if (this.sink) this.context.leave(this.sink, this)
    this.sink = undefined
    this.context.connections.remove(this)
    this.drained()
  }

  /** A replaying subscription's output: frames tagged with their sub, then a `live` marker as it joins the topic. */
  private replaySink(sub: string, entry: Entry & { kind: 'events' }): FollowSink {
    const prefix = `{"op":"event","sub":${JSON.stringify(sub)},"event":`
    return {
      deliver: (batch: Batch) => {
        for (const event of batch.events) this.send(`${prefix}${event.json}}`, 1)
      },
      gap: (gap) => this.reply({ op: 'gap', sub, ...gap }),
      reset: (reset) => this.reply({ op: 'reset', sub, ...reset }),
      end: () => {
        this.drop(sub)
        this.reply({ op: 'end', sub })
      },
      drained: () => (this.socket.getBufferedAmount() > 0 && !this.isClosed ? new Promise<void>((resolve) => this.waiters.push(resolve)) : null),
      // Same turn as the replay's last event: nothing can slip between replay and the topic.
      live: () => {
        entry.replay = undefined
        this.reply({ op: 'live', sub })
        this.goLive(sub, entry)
        return false
      },
      failed: (error) => {
        this.drop(sub)
        this.error({ sub }, error)
      },
    }
  }

  /** Forgets a subscription: a replay stops, a consume gives back what it holds, patterns are released. */
  private drop(sub: string): void {
    const entry = this.subs.get(sub)
    if (!entry) return
    this.subs.delete(sub)
    if (entry.kind === 'consume') return entry.close()
    entry.replay?.close()
    this.context.connections.releasePatterns(this, entry.filter.patterns.length)
  }

  private goLive(sub: string, entry: Entry & { kind: 'events' }): void {
    if (this.isClosed || this.subs.get(sub) !== entry) return
    if (entry.filter.isExact && this.context.hub.isClosed(entry.filter)) {
      this.drop(sub)
      return this.reply({ op: 'end', sub })
    }
    this.regroup()
  }

  /** Moves the socket to the topic of its current union of live event subscriptions. */
  private regroup(): void {
    if (this.isClosed) return
    const live: Filter[] = []
    for (const entry of this.subs.values()) if (entry.kind === 'events' && !entry.replay) live.push(entry.filter)
    const selector = live.length > 0 ? new Selector(live) : undefined
    if (this.sink && selector && this.sink.feed?.selector.key === selector.key) return
    if (this.sink) {
      this.ownDelivered += this.sink.sent - this.sinkMark
      this.socket.unsubscribe(this.sink.topic)
      this.context.leave(this.sink, this)
      this.sink = undefined
    }
    if (!selector) return
    this.sink = this.context.join(selector, this)
    this.sinkMark = this.sink.sent
    this.socket.subscribe(this.sink.topic)
  }

  private send(text: string, events = 0): void {
    if (this.isClosed) return
    const result = this.socket.send(text, text.length >= MIN_COMPRESS_BYTES)
    if (events > 0) {
      this.ownDelivered += events
      this.ownLastEventAt = Date.now()
      this.context.metrics.deliveries.ws += events
    }
    if (result === 0 || this.socket.getBufferedAmount() > this.context.options.bufferLimit) this.overflow()
  }
}
