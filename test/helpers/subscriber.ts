import { SseClient, type SseFrame } from './sse-client'
import { WsTestClient } from './ws-client'
import type { Envelope } from '../../src/core/event'
import { Wakeup } from './wakeup'

export type { Envelope }

/** What a subscription yields, in arrival order: events and the in-band control signals. */
export type Item =
  | { kind: 'event'; event: Envelope }
  | { kind: 'gap'; after: number; firstId: number }
  | { kind: 'reset'; after: number; lastId: number }
  | { kind: 'end' }

export interface SubscribeOptions {
  /** Resume position (SSE: `?after=`; WS: subscribe `after`; poll: `after`). Absent: start live. */
  after?: number
  /** SSE only: sent as the Last-Event-ID header (the other transports treat it as `after`). */
  lastEventId?: number
  types?: string[]
  correlationId?: string
}

/** One subscription over one transport, with a uniform, awaitable view of what it receives. */
export interface Subscriber {
  readonly transport: TransportName
  /** Everything received so far, in order. */
  readonly items: readonly Item[]
  /** Every event received so far, in order. */
  events(): Envelope[]
  /** The next item (event or control), in arrival order. */
  next(timeoutMs?: number): Promise<Item>
  /** The next item, which must be an event (throws on a control item). */
  nextEvent(timeoutMs?: number): Promise<Envelope>
  /** The next `n` items, which must all be events. */
  collect(n: number, timeoutMs?: number): Promise<Envelope[]>
  /** Resolves when the transport-level subscription is over: SSE response ended, poll loop stopped, socket closed. */
  readonly finished: Promise<void>
  /** SSE only: the HTTP status of the response (0 until it arrives). */
  status(): number
  close(): Promise<void>
}

export type TransportName = 'sse' | 'ws' | 'poll'

/** Subscribes `patterns` on the server at `base`; resolves once the subscription is in place (live or replaying). */
export type SubscribeFn = (base: string, patterns: string[], options?: SubscribeOptions) => Promise<Subscriber>

/** Shared queue logic: transports push items, tests await them. */
abstract class Queue {
  readonly items: Item[] = []
  private read = 0
  private readonly wakeup = new Wakeup()
  protected isOver = false
  protected failure: Error | undefined

  events(): Envelope[] {
    return this.items.flatMap((i) => (i.kind === 'event' ? [i.event] : []))
  }

  protected push(item: Item): void {
    this.items.push(item)
    this.wakeup.wake()
  }

  protected over(error?: Error): void {
    this.isOver = true
    this.failure ??= error
    this.wakeup.wake()
  }

  async next(timeoutMs = 10_000): Promise<Item> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.read < this.items.length) return this.items[this.read++]
      if (this.isOver) throw new Error(`subscription over with nothing more${this.failure ? `: ${this.failure.message}` : ''}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`nothing received within ${timeoutMs} ms (after ${this.items.length} items)`)
      await this.wakeup.until(left)
    }
  }

  async nextEvent(timeoutMs = 10_000): Promise<Envelope> {
    const item = await this.next(timeoutMs)
    if (item.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(item)}`)
    return item.event
  }

  async collect(n: number, timeoutMs = 10_000): Promise<Envelope[]> {
    const out: Envelope[] = []
    while (out.length < n) out.push(await this.nextEvent(timeoutMs))
    return out
  }

}

function sseUrl(base: string, patterns: string[], options: SubscribeOptions, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams()
  const isOneStream = patterns.length === 1 && !patterns[0].includes('*')
  if (!isOneStream) for (const p of patterns) params.append('stream', p)
  if (options.after !== undefined) params.set('after', String(options.after))
  if (options.types) params.set('types', options.types.join(','))
  if (options.correlationId) params.set('correlationId', options.correlationId)
  for (const [k, v] of Object.entries(extra)) params.set(k, v)
  const path = isOneStream ? `/v1/streams/${patterns[0]}/events` : '/v1/events'
  const query = params.toString()
  return `${base}${path}${query ? `?${query}` : ''}`
}

class SseSubscriber extends Queue implements Subscriber {
  readonly transport = 'sse'
  readonly finished: Promise<void>
  private seen = 0

  constructor(readonly client: SseClient) {
    super()
    this.finished = this.forward()
  }

  status(): number {
    return this.client.status
  }

  async close(): Promise<void> {
    this.client.close()
    await this.finished
  }

  /** Moves each parsed frame into items as it arrives, until the response ends. */
  private async forward(): Promise<void> {
    for (;;) {
      for (; this.seen < this.client.frames.length; this.seen++) {
        const item = sseItem(this.client.frames[this.seen])
        if (item) this.push(item)
      }
      const count = this.client.frames.length
      try {
        await this.client.until(() => this.client.frames.length > count, 3_600_000)
      } catch {
        break // the response ended
      }
    }
    for (; this.seen < this.client.frames.length; this.seen++) {
      const item = sseItem(this.client.frames[this.seen])
      if (item) this.push(item)
    }
    this.over()
  }
}

function sseItem(frame: SseFrame): Item | undefined {
  if (frame.data === undefined) return undefined
  const data = JSON.parse(frame.data)
  if (frame.id !== undefined) return { kind: 'event', event: data }
  if (frame.event === 'gap') return { kind: 'gap', after: data.after, firstId: data.firstId }
  if (frame.event === 'reset') return { kind: 'reset', after: data.after, lastId: data.lastId }
  if (frame.event === 'end') return { kind: 'end' }
  throw new Error(`unexpected SSE control frame ${JSON.stringify(frame)}`)
}

export const subscribeSse: SubscribeFn = async (base, patterns, options = {}) => {
  const headers: Record<string, string> = {}
  if (options.lastEventId !== undefined) headers['Last-Event-ID'] = String(options.lastEventId)
  const client = SseClient.open(sseUrl(base, patterns, options), headers)
  const sub = new SseSubscriber(client)
  const res = await client.opened()
  // The opening `retry:` frame is written in the same turn the subscription joins the hub (or starts replay).
  if (res.status === 200) await client.until((f) => f.retry !== undefined)
  return sub
}

class WsSubscriber extends Queue implements Subscriber {
  readonly transport = 'ws'
  readonly finished: Promise<void>

  constructor(readonly client: WsTestClient) {
    super()
    client.socket.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data))
      if (m.op === 'event') this.push({ kind: 'event', event: m.event })
      else if (m.op === 'gap') this.push({ kind: 'gap', after: m.after, firstId: m.firstId })
      else if (m.op === 'reset') this.push({ kind: 'reset', after: m.after, lastId: m.lastId })
      else if (m.op === 'end') this.push({ kind: 'end' })
      else if (m.op === 'error') this.over(new Error(`error frame ${JSON.stringify(m)}`))
    })
    this.finished = client.closed.then(() => this.over(new Error(`socket closed ${client.closeCode}`)))
  }

  status(): number {
    return 101
  }

  async close(): Promise<void> {
    this.client.close()
    await this.client.closed
  }
}

export const subscribeWs: SubscribeFn = async (base, patterns, options = {}) => {
  const client = await WsTestClient.open(`${base.replace(/^http/, 'ws')}/v1/ws`)
  const sub = new WsSubscriber(client)
  const after = options.lastEventId ?? options.after
  client.send({
    op: 'subscribe',
    sub: 's',
    streams: patterns,
    ...(options.types && { types: options.types }),
    ...(options.correlationId && { correlationId: options.correlationId }),
    ...(after !== undefined && { after }),
  })
  const reply = await client.next((m) => m.sub === 's' && (m.op === 'ok' || m.op === 'error'))
  if (reply.op !== 'ok') throw new Error(`subscribe refused: ${JSON.stringify(reply)}`)
  return sub
}

/** A long-poll loop: each page from `next` of the one before, `wait` seconds per empty page. */
class PollSubscriber extends Queue implements Subscriber {
  readonly transport = 'poll'
  readonly finished: Promise<void>
  private readonly abort = new AbortController()
  position = 0

  constructor(
    private readonly base: string,
    private readonly patterns: string[],
    private readonly options: SubscribeOptions,
    private readonly waitSeconds = 2,
  ) {
    super()
    let started!: () => void
    this.ready = new Promise((resolve) => (started = resolve))
    this.finished = this.loop(started)
  }

  readonly ready: Promise<void>

  status(): number {
    return 200
  }

  async close(): Promise<void> {
    this.abort.abort()
    await this.finished
  }

  private url(params: Record<string, string>): string {
    const q = new URLSearchParams()
    for (const p of this.patterns) q.append('stream', p)
    if (this.options.types) q.set('types', this.options.types.join(','))
    if (this.options.correlationId) q.set('correlationId', this.options.correlationId)
    for (const [k, v] of Object.entries(params)) q.set(k, v)
    return `${this.base}/v1/events?${q}`
  }

  private async page(params: Record<string, string>): Promise<any> {
    const res = await fetch(this.url(params), { signal: this.abort.signal })
    if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${await res.text()}`)
    return res.json()
  }

  private async loop(started: () => void): Promise<void> {
    const limit = 1000
    try {
      const start = this.options.lastEventId ?? this.options.after
      if (start === undefined) {
        // No position: ask the tail for `next`, the position to poll from (the current last matching id).
        this.position = (await this.page({ limit: '1' })).next
        started()
      }
      let isFirst = start !== undefined
      if (isFirst) this.position = start!
      for (;;) {
        // The first page of a resume is immediate, so `ready` means the server has judged the position.
        const page = await this.page({ after: String(this.position), limit: String(limit), ...(isFirst ? {} : { wait: String(this.waitSeconds) }) })
        if (page.reset) this.push({ kind: 'reset', after: page.reset.after, lastId: page.reset.lastId })
        if (page.gap) this.push({ kind: 'gap', after: page.gap.after, firstId: page.gap.firstId })
        for (const event of page.events) this.push({ kind: 'event', event })
        if (page.events.length > 0 && page.next !== page.events[page.events.length - 1].id) throw new Error(`next ${page.next} is not the last id on the page`)
        this.position = page.next
        if (isFirst) started()
        isFirst = false
        if (page.closed && page.events.length < limit) {
          this.push({ kind: 'end' })
          break
        }
      }
      this.over()
    } catch (error) {
      started()
      this.over(this.abort.signal.aborted ? undefined : (error as Error))
    }
  }
}

export const subscribePoll: SubscribeFn = async (base, patterns, options = {}) => {
  const sub = new PollSubscriber(base, patterns, options)
  await sub.ready
  return sub
}

/** The client factory the guarantees suite runs once per transport. */
export const transports: Record<TransportName, SubscribeFn> = { sse: subscribeSse, ws: subscribeWs, poll: subscribePoll }
