import { RingcastError } from './errors'
import { type Filter, queryOf } from './filter'
import { Http } from './http'
import type { Backoff } from './retry'
import { followSse } from './sse'
import { Subscription } from './subscription'
import { Token, type TokenOption } from './token'
import type { ConnectionInfo, GroupConfig, GroupInfo, PublishItem, StoredEvent, StreamInfo } from './types'
import { type Handler, Worker, type WorkerOptions } from './worker'
import { pullSource, pushSource } from './worker-sources'
import { type WebSocketConstructor, WsMux } from './ws'
import { followWs } from './ws-subscription'

export type Transport = 'sse' | 'ws'

export interface RingcastOptions {
  /** The server, e.g. `https://events.example.com` (relative to the page in a browser). */
  url: string
  /** A token, or a function returning a fresh one: called again when the server says the last one expired. */
  token?: TokenOption
  /** `sse` (default): one streaming fetch per subscription; `ws`: one WebSocket for all of them. */
  transport?: Transport
  /** The WebSocket class for `ws` where there is no global one (Node before 22): e.g. the `ws` package's. */
  WebSocket?: WebSocketConstructor
  /** Reconnect and retry delays (default 200 ms doubling to 10 s, with jitter). */
  backoff?: Backoff
  /** Times a publish or an admin request is retried on a transient failure (default 8). */
  retries?: number
  /** A connection silent this long (SSE heartbeats and WebSocket pings come at a third of it) is dropped and reopened (default 45 s). */
  idleMs?: number
}

export interface SubscribeOptions {
  /** Stream names or patterns (`jobs.*`, `team.7.**`). */
  streams: string | string[]
  types?: string[]
  correlationId?: string
  /** Replay every event after this id first (0: all retained history); without it, only new events. */
  after?: number
  transport?: Transport
}

/** A ringcast server: subscribe, publish, work a group, and look at streams, connections and groups. */
export class Ringcast {
  private readonly http: Http
  private mux: WsMux | undefined
  private readonly subscriptions = new Set<Subscription>()
  private readonly workers = new Set<Worker>()

  constructor(private readonly options: RingcastOptions) {
    const base = new URL(options.url, (globalThis as { location?: { href: string } }).location?.href).href.replace(/\/+$/, '')
    this.http = new Http(base, new Token(options.token), options.backoff ?? {}, options.retries ?? 8)
  }

  /** Follows streams: iterate it for envelopes in id order, each once, across reconnects, restarts and token renewals. */
  subscribe(options: SubscribeOptions): Subscription {
    const filter: Filter = { streams: ([] as string[]).concat(options.streams), types: options.types, correlationId: options.correlationId }
    const transport = options.transport ?? this.options.transport ?? 'sse'
    const mux = transport === 'ws' ? this.socket() : undefined
    const sub = new Subscription(filter, options.after)
    this.subscriptions.add(sub)
    sub.signal.addEventListener('abort', () => this.subscriptions.delete(sub))
    void this.start(sub, mux)
    return sub
  }

  /** Publishes one event (resolves to it as stored) or a batch (to the array); a retry after a failure never stores an event twice. */
  publish(stream: string, item: PublishItem): Promise<StoredEvent>
  publish(stream: string, items: PublishItem[]): Promise<StoredEvent[]>
  publish(stream: string, body: PublishItem | PublishItem[]): Promise<StoredEvent | StoredEvent[]> {
    // Items without a key get `KEY` (a batch `KEY:index`) from the server: the same on every retry.
    const key = randomKey()
    return this.http.json('POST', `/v1/streams/${encodeURIComponent(stream)}/events`, { body, headers: { 'Idempotency-Key': key }, isRetried: true })
  }

  /** Works a consumer group: `handler` runs for each delivery, acked when it resolves, offered again later when it throws. */
  worker(group: string, handler: Handler, options: WorkerOptions = {}): Worker {
    const consumer = options.consumer ?? `worker-${randomKey().slice(0, 8)}`
    const concurrency = options.concurrency ?? 1
    const isPush = (options.transport ?? (this.options.transport === 'ws' ? 'ws' : 'pull')) === 'ws'
    const source = isPush ? pushSource(this.socket(), group, consumer, concurrency) : pullSource(this.http, group, consumer, options.waitSec ?? 20)
    const worker = new Worker(group, consumer, handler, source, concurrency, options.retryDelay ?? {})
    this.workers.add(worker)
    return worker
  }

  /** Streams with their stats (those the token may subscribe to), optionally only those matching a pattern. */
  async streams(pattern?: string): Promise<StreamInfo[]> {
    return (await this.get<{ streams: StreamInfo[] }>(`/v1/streams${pattern ? `?pattern=${encodeURIComponent(pattern)}` : ''}`)).streams
  }

  stream(name: string): Promise<StreamInfo> {
    return this.get(`/v1/streams/${encodeURIComponent(name)}`)
  }

  /** Live connections (admin). */
  async connections(): Promise<ConnectionInfo[]> {
    return (await this.get<{ connections: ConnectionInfo[] }>('/v1/connections')).connections
  }

  /** Consumer groups with their stats (admin). */
  async groups(): Promise<GroupInfo[]> {
    return (await this.get<{ groups: GroupInfo[] }>('/v1/groups')).groups
  }

  group(name: string): Promise<GroupInfo> {
    return this.get(`/v1/groups/${encodeURIComponent(name)}`)
  }

  /** Creates or updates a consumer group (admin). */
  putGroup(name: string, config: GroupConfig): Promise<GroupInfo> {
    return this.http.json('PUT', `/v1/groups/${encodeURIComponent(name)}`, { body: config, isRetried: true })
  }

  /** Closes every subscription and stops every worker (resolves once their handlers finished). */
  async close(): Promise<void> {
    for (const sub of this.subscriptions) sub.close()
    await Promise.all([...this.workers].map((w) => w.stop()))
    this.workers.clear()
  }

  private get idleMs(): number {
    return this.options.idleMs ?? 45_000
  }

  private get<T>(path: string): Promise<T> {
    return this.http.json('GET', path, { isRetried: true })
  }

  private socket(): WsMux {
    const WebSocket = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (!WebSocket) {
      throw new RingcastError(0, 'no_websocket', 'transport "ws" needs a WebSocket class and this runtime has none.', 'Pass one: new Ringcast({ url, transport: "ws", WebSocket }) (e.g. from the `ws` package), or use transport "sse".')
    }
    this.mux ??= new WsMux(this.http, WebSocket, this.idleMs)
    return this.mux
  }

  /** Finds where a live subscription starts (so a reconnect before its first event loses nothing), then follows it. */
  private async start(sub: Subscription, mux: WsMux | undefined): Promise<void> {
    if (sub.position === undefined) {
      try {
        const page = await this.http.json<{ next: number }>('GET', `/v1/events?${queryOf(sub.filter, { limit: 1 })}`, { isRetried: true, retries: Infinity, signal: sub.signal, onRetry: (e) => sub.report(e) })
        sub.position = sub.lastId = page.next
      } catch (error) {
        return sub.end(error as Error)
      }
    }
    if (mux) followWs(sub, mux, this.http)
    else await followSse(sub, this.http, this.idleMs)
  }
}

/** 128 random bits as hex: an idempotency key no other publish will use. */
function randomKey(): string {
  const bytes = new Uint8Array(16)
  // Node 18 has no global crypto; a key must be unique, not secret, so Math.random will do there.
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes)
  else for (let i = 0; i < 16; i++) bytes[i] = Math.random() * 256
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
