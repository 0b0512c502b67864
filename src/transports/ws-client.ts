import { RingcastError } from '../core/errors'
import { type Filter, Selector } from '../core/filter'
import { type Connection, connectionId } from './connections'
import type { TopicMember, TopicSink } from './topic-sink'
import type { WsPublish, WsSubscribe } from './wire'
import type { WsIdentity, WsTransport } from './ws'

/** The part of Bun's ServerWebSocket the protocol needs. */
export interface WsSocket {
  send(data: string): number
  close(code?: number, reason?: string): void
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  getBufferedAmount(): number
}

/** Close code for a socket that fell past its buffer limit; it should reconnect and resubscribe with `after`. */
export const CLOSE_SLOW = 4008
/** Close code for a socket whose token expired. */
export const CLOSE_EXPIRED = 4001
const PAGE = 500

/** One WebSocket: its subscriptions, their catch-ups, and its place in one shared topic. */
export class WsClient implements Connection, TopicMember {
  readonly id = connectionId('ws')
  readonly transport = 'ws'
  readonly connectedAt = Date.now()
  /** Live subscriptions; their union is the selector of the topic this socket is in. */
  private readonly live = new Map<string, Filter>()
  /** Subscriptions still replaying history, by a token of their own: an unsubscribe stops the replay. */
  private readonly catching = new Map<string, { filter: Filter }>()
  private sink: TopicSink | undefined
  private sinkMark = 0
  private ownDelivered = 0
  private ownLastEventAt: number | null = null
  private waiters: (() => void)[] = []
  private isClosed = false

  readonly client: string
  readonly expiresAtMs: number | null

  constructor(
    private readonly ws: WsTransport,
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
    for (const f of this.live.values()) for (const p of f.patterns) all.add(p)
    return [...all]
  }

  bufferedBytes(): number {
    return this.isClosed ? 0 : this.socket.getBufferedAmount()
  }

  bufferedAmount(): number {
    return this.bufferedBytes()
  }

  subscribe(frame: WsSubscribe): void {
    if (this.live.has(frame.sub) || this.catching.has(frame.sub)) {
      throw new RingcastError('bad_request', `Subscription "${frame.sub}" already exists.`, 'Unsubscribe it first or pick another sub id.')
    }
    if (this.live.size + this.catching.size >= this.ws.options.maxSubscriptions) {
      throw new RingcastError('bad_request', `A socket may hold at most ${this.ws.options.maxSubscriptions} subscriptions.`, 'Use patterns to cover more streams with one subscription.')
    }
    this.ws.connections.checkPatterns(this, frame.streams.length)
    const filter = this.ws.rules.filter(this.identity, frame.streams, frame.types, frame.correlationId)
    this.ws.connections.holdPatterns(this, filter.patterns.length)
    this.reply({ op: 'ok', sub: frame.sub })
    if (frame.after === undefined) return this.goLive(frame.sub, filter)
    const token = { filter }
    this.catching.set(frame.sub, token)
    void this.catchUp(frame.sub, filter, frame.after, token)
  }

  unsubscribe(sub: string): void {
    const filter = this.live.get(sub) ?? this.catching.get(sub)?.filter
    if (!filter) throw new RingcastError('not_found', `No subscription "${sub}".`)
    this.drop(sub, filter)
    this.regroup()
    this.reply({ op: 'ok', sub })
  }

  publish(frame: WsPublish): void {
    const ref = frame.ref
    this.ws.rules.publish(this.identity, frame).then(
      (result) => this.reply({ op: 'ok', ...(ref !== undefined && { ref }), ...result }),
      (error) => this.error(ref !== undefined ? { ref } : {}, error),
    )
  }

  /** Ends subscriptions whose exact streams have all closed. */
  endClosed(streams: readonly string[]): void {
    let changed = false
    for (const [sub, filter] of this.live) {
      if (!filter.isExact || !filter.patterns.some((p) => streams.includes(p))) continue
      if (!this.ws.hub.isClosed(filter) && !filter.patterns.every((p) => !this.ws.hub.streams.get(p))) continue
      this.drop(sub, filter)
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
    const e = error instanceof RingcastError ? error : new RingcastError('internal', 'Internal error.')
    this.reply({ op: 'error', ...ids, error: { code: e.code, message: e.message, ...(e.hint && { hint: e.hint }), ...e.extra } })
  }

  /** Past its buffer limit: closed with 4008 so the client resumes with `after`, never silently skipped. */
  overflow(): void {
    this.ws.metrics.slowDisconnects.ws++
    this.close('buffer limit exceeded: resubscribe with after', CLOSE_SLOW)
  }

  /** The token expired: 4001 tells the client to reconnect with a fresh one and resubscribe with `after`. */
  expire(): void {
    this.close('token expired', CLOSE_EXPIRED)
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

  dispose(): void {
    if (this.isClosed) return
    this.isClosed = true
    this.live.clear()
    this.catching.clear()
    if (this.sink) this.ws.leave(this.sink, this)
    this.sink = undefined
    this.ws.connections.remove(this)
    this.drained()
  }

  private async catchUp(sub: string, filter: Filter, after: number, token: { filter: Filter }): Promise<void> {
    const { hub } = this.ws
    let position = after
    let isFirst = true
    while (!this.isClosed && this.catching.get(sub) === token) {
      const page = hub.reader.read(filter, position, PAGE)
      if (isFirst && page.reset) this.reply({ op: 'reset', sub, ...page.reset })
      if (isFirst && page.gap) this.reply({ op: 'gap', sub, ...page.gap })
      isFirst = false
      for (const event of page.events) this.send(event.ws, 1)
      position = page.next
      if (page.isDone) {
        // Same turn as the last read: no event can slip between replay and live.
        this.catching.delete(sub)
        return this.goLive(sub, filter)
      }
      if (this.socket.getBufferedAmount() > 0) await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Forgets a subscription and gives its patterns back. */
  private drop(sub: string, filter: Filter): void {
    this.live.delete(sub)
    this.catching.delete(sub)
    this.ws.connections.releasePatterns(this, filter.patterns.length)
  }

  private goLive(sub: string, filter: Filter): void {
    if (this.isClosed) return
    if (filter.isExact && this.ws.hub.isClosed(filter)) {
      this.drop(sub, filter)
      return this.reply({ op: 'end', sub })
    }
    this.live.set(sub, filter)
    this.regroup()
  }

  /** Moves the socket to the topic of its current union of live subscriptions. */
  private regroup(): void {
    if (this.isClosed) return
    const selector = this.live.size > 0 ? new Selector([...this.live.values()]) : undefined
    if (this.sink && selector && this.sink.feed?.selector.key === selector.key) return
    if (this.sink) {
      this.ownDelivered += this.sink.sent - this.sinkMark
      this.socket.unsubscribe(this.sink.topic)
      this.ws.leave(this.sink, this)
      this.sink = undefined
    }
    if (!selector) return
    this.sink = this.ws.join(selector, this)
    this.sinkMark = this.sink.sent
    this.socket.subscribe(this.sink.topic)
  }

  private send(text: string, events = 0): void {
    if (this.isClosed) return
    const result = this.socket.send(text)
    if (events > 0) {
      this.ownDelivered += events
      this.ownLastEventAt = Date.now()
      this.ws.metrics.deliveries.ws += events
    }
    if (result === 0 || this.socket.getBufferedAmount() > this.ws.options.bufferLimit) this.overflow()
  }
}
