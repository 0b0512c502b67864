import { RingcastError, unreachable } from './errors'
import type { Http } from './http'
import { delayMs } from './retry'
import type { Envelope } from './types'

/** The part of the WebSocket API the client uses: browsers', Bun's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  // Events typed `any` so that every implementation's own event classes fit.
  onopen: ((event: any) => void) | null
  onmessage: ((event: any) => void) | null
  onclose: ((event: any) => void) | null
  onerror: ((event: any) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

/** @internal A server frame (see the WebSocket protocol in /docs). */
export interface WsFrame {
  op: string
  sub?: string
  group?: string
  event?: Envelope
  error?: { code: string; message: string; hint?: string; ids?: number[] }
  [field: string]: unknown
}

/** @internal Something on the shared socket under its own `sub` id: a subscription or a group consumer. */
export interface WsMember {
  readonly sub: string
  /** Settle errors name a group, not a sub: they go to the consumer of that group. */
  readonly group?: string
  /** Starts it on a newly opened socket: sends its subscribe or consume frame (at once, or once it is ready). */
  start(): void
  /** Frames naming its sub (or, for a consumer, its group). */
  onFrame(frame: WsFrame): void
  /** Every event frame: a socket gets each event once, however many subscriptions match it. */
  onEvent?(event: Envelope): void
  /** The socket dropped; it is reopened and `start()` sent again. Not transient: its token was refused (401). */
  onDrop(error: RingcastError): void
}

/** Close code of a socket without a valid token: refused at connect (right after an `unauthorized` error frame) or expired. */
const CLOSE_UNAUTHORIZED = 4001
const STATUS: Record<string, number> = { unauthorized: 401, forbidden: 403, not_found: 404, rate_limited: 429, too_many_client_connections: 429, internal: 500, too_many_connections: 503, unavailable: 503 }

/** @internal An `error` frame as an error, with the status the same refusal has over HTTP. */
export function frameError(frame: WsFrame): RingcastError {
  const e = frame.error ?? { code: 'internal', message: 'error frame without details' }
  return new RingcastError(STATUS[e.code] ?? 400, e.code, e.message, e.hint)
}

/** @internal One WebSocket per client, multiplexing its subscriptions and consumers; reopened with backoff while any is left. */
export class WsMux {
  private socket: WebSocketLike | undefined
  private isOpen = false
  private isOpening = false
  private attempt = 0
  /** The last socket was refused its token: the next refusal is not worth a fresh token at once. */
  private wasRefused = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private watchdog: ReturnType<typeof setInterval> | undefined
  private heardAt = 0
  private readonly members = new Map<string, WsMember>()
  private count = 0

  constructor(
    private readonly http: Http,
    private readonly WebSocket: WebSocketConstructor,
    /** Silence past this (no frame, not even a pong) means a dead connection. */
    private readonly idleMs: number,
  ) {}

  get backoff() {
    return this.http.backoff
  }

  /** A sub id not used on this socket yet. */
  id(prefix: string): string {
    return `${prefix}${++this.count}`
  }

  add(member: WsMember): void {
    this.members.set(member.sub, member)
    if (this.isOpen) member.start()
    else if (!this.socket && !this.timer && !this.isOpening) void this.open()
  }

  /** Takes a member off the socket; `isUnsubscribed` when the server has ended it already. */
  remove(member: WsMember, isUnsubscribed = false): void {
    if (!this.members.delete(member.sub)) return
    if (this.members.size > 0) {
      if (!isUnsubscribed) this.send({ op: 'unsubscribe', sub: member.sub })
      return
    }
    clearTimeout(this.timer)
    this.timer = undefined
    this.detach()?.close(1000, 'done')
  }

  /** Sends a frame; false when the socket is not open (the server released what a settle frame was about). */
  send(frame: object): boolean {
    if (this.isOpen) this.socket!.send(JSON.stringify(frame))
    return this.isOpen
  }

  private async open(): Promise<void> {
    let token: string | undefined
    this.isOpening = true
    try {
      token = await this.http.token.get()
    } catch (error) {
      return this.dropped(unreachable(error), false)
    } finally {
      this.isOpening = false
    }
    if (this.members.size === 0) return
    const url = new URL(`${this.http.base}/v1/ws`)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    // Browsers cannot set headers on a WebSocket: the token goes in the URL.
    if (token) url.searchParams.set('access_token', token)
    const socket = new this.WebSocket(url.href)
    this.socket = socket
    let refusal: RingcastError | undefined
    socket.onopen = () => {
      if (this.socket !== socket) return
      this.isOpen = true
      this.heardAt = Date.now()
      this.watchdog = setInterval(() => this.check(socket), this.idleMs / 3)
      for (const member of this.members.values()) member.start()
    }
    socket.onmessage = (message: { data: unknown }) => {
      if (this.socket !== socket) return
      this.heardAt = Date.now()
      const frame = JSON.parse(String(message.data)) as WsFrame
      // A refused token is told by an error frame naming no sub (browsers cannot read an upgrade's status), then close 4001.
      if (frame.op === 'error' && frame.error?.code === 'unauthorized' && frame.sub === undefined && frame.ref === undefined) {
        refusal = frameError(frame)
        return
      }
      // The socket works: the next reconnect starts from the shortest delay.
      this.attempt = 0
      this.wasRefused = false
      this.route(frame)
    }
    // The close event that follows says what happened; the `ws` package throws on an error nobody listens to.
    socket.onerror = () => {}
    socket.onclose = ({ code, reason }: { code: number; reason: string }) => {
      if (this.socket !== socket) return
      this.detach()
      const closed = new RingcastError(0, 'disconnected', `WebSocket closed (${code}${reason ? ` ${reason}` : ''})`)
      if (code !== CLOSE_UNAUTHORIZED) return this.dropped(closed, false)
      this.http.token.expire()
      // Expired: again at once with a fresh token. Refused: once more at once if the token can be renewed, then the refusal.
      if (!refusal) return this.dropped(closed, true)
      const isRenewing = this.http.token.isRenewable && !this.wasRefused
      this.wasRefused = true
      this.dropped(isRenewing ? closed : refusal, isRenewing)
    }
  }

  /** Pings a quiet socket; one silent past idleMs is given up (its close may never come) and replaced. */
  private check(socket: WebSocketLike): void {
    if (Date.now() - this.heardAt < this.idleMs) return void this.send({ op: 'ping' })
    this.detach()
    socket.close(4000, 'no answer')
    this.dropped(new RingcastError(0, 'disconnected', `WebSocket silent for ${this.idleMs} ms`), false)
  }

  /** Forgets the current socket (its events are ignored from now on) and returns it. */
  private detach(): WebSocketLike | undefined {
    const socket = this.socket
    clearInterval(this.watchdog)
    this.socket = undefined
    this.isOpen = false
    return socket
  }

  private dropped(error: RingcastError, isAtOnce: boolean): void {
    for (const member of this.members.values()) member.onDrop(error)
    if (this.members.size === 0) return
    const wait = isAtOnce ? 0 : delayMs(this.attempt++, this.http.backoff)
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.open()
    }, wait)
  }

  private route(frame: WsFrame): void {
    if (frame.op === 'event') {
      for (const member of this.members.values()) member.onEvent?.(frame.event!)
      return
    }
    // A member's own requests name it as their `ref` (an extend, a ping); settle failures name their group.
    const id = frame.sub ?? (frame.ref as string | undefined)
    let target = id === undefined ? undefined : this.members.get(id)
    if (!target && frame.group !== undefined) for (const m of this.members.values()) if (m.group === frame.group) target = m
    target?.onFrame(frame)
  }
}
