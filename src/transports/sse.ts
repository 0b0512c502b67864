import { sseControl } from '../core/event'
import type { Batch } from '../core/feed'
import type { Filter } from '../core/filter'
import type { Hub } from '../core/hub'
import type { FollowSink, Subscription } from '../core/subscription'
import type { Metrics } from '../metrics'
import { type Connection, type Connections, connectionId } from './connections'
import { Heartbeats } from './heartbeats'
import { ConstantBlocks, GzipStream, plainOf, type SseChunk } from './sse-gzip'

export interface SseOptions {
  /** Bytes a connection may have queued before its slow-consumer policy applies. */
  bufferLimit: number
  /** The `retry:` a client waits before reconnecting. */
  retryMs: number
}

export interface SseRequest {
  filter: Filter
  /** Resume position (Last-Event-ID, else `after`); null starts live. */
  position: number | null
  heartbeatMs: number
  slow: 'close' | 'drop'
  /** Ends the subscription once it has received no event for this long; null never. */
  idleTimeoutMs: number | null
  /** gzip: the response is compressed, each write flushed at once. */
  encoding: 'gzip' | null
  remote: string
  client: string
  /** When the subscriber's token expires (epoch ms). */
  expiresAtMs: number | null
  signal: AbortSignal
}

const HEARTBEAT = new ConstantBlocks(new TextEncoder().encode(': hb\n\n'))
// Sent to every subscriber of a stream at once when it closes: compressed once, not once each.
const END_CLOSED = new ConstantBlocks(sseControl('end', { reason: 'closed' }))
const END_TIMEOUT = new ConstantBlocks(sseControl('end', { reason: 'timeout' }))

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
}

/** Server-Sent Events over the hub: replay from a position, then live, in id order, with bounded buffering. */
export class SseTransport {
  private readonly heartbeats = new Heartbeats<SseSession>()
  /** The first bytes of every response. */
  readonly opening: ConstantBlocks

  constructor(
    readonly hub: Hub,
    readonly connections: Connections,
    readonly metrics: Metrics,
    readonly options: SseOptions,
  ) {
    this.opening = new ConstantBlocks(new TextEncoder().encode(`retry: ${options.retryMs}\n: ringcast\n\n`))
  }

  /** A streaming response, or 204 when the stream is closed and nothing is left to replay. Throws on limits. */
  async open(request: SseRequest): Promise<Response> {
    if (this.hub.isClosed(request.filter)) {
      const page = await this.hub.read(request.filter, request.position ?? this.hub.lastId, 1)
      if (page.events.length === 0 && !page.gap) return new Response(null, { status: 204 })
    }
    const session = new SseSession(this, request)
    this.connections.add(session)
    request.signal.addEventListener('abort', () => session.dispose(), { once: true })
    const source = {
      type: 'direct',
      pull: (controller: DirectController) => session.run(controller),
      cancel: () => session.dispose(),
    }
    // Bun's direct stream writes straight to the socket and reports backpressure as a pending promise.
    const stream = new ReadableStream(source as unknown as ConstructorParameters<typeof ReadableStream>[0])
    return new Response(stream, { headers: request.encoding ? { ...SSE_HEADERS, 'Content-Encoding': request.encoding, Vary: 'Accept-Encoding' } : SSE_HEADERS })
  }

  watchHeartbeat(session: SseSession, intervalMs: number, on: boolean): void {
    if (on) this.heartbeats.add(intervalMs, session)
    else this.heartbeats.remove(intervalMs, session)
  }
}

interface DirectController {
  write(chunk: Uint8Array | string): number | Promise<number>
  close(): void
}

/** One SSE response: what the hub's subscription hands it, as bytes, with bounded buffering. */
class SseSession implements FollowSink, Connection {
  readonly id = connectionId('sse')
  readonly transport = 'sse'
  readonly connectedAt = Date.now()
  readonly remote: string
  readonly client: string
  readonly expiresAtMs: number | null
  delivered = 0
  lastEventAt: number | null = null
  private controller: DirectController | undefined
  private subscription: Subscription | undefined
  private isLive = false
  private queue: Queued[] = []
  private queuedBytes = 0
  private isBlocked = false
  private isDisposed = false
  private lastId: number
  private pendingGap: number | null = null
  private finished: (() => void) | undefined
  private aborted: (() => void) | undefined
  private onDrained: (() => void) | undefined
  private readonly gzip: GzipStream | undefined
  private idleTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly owner: SseTransport,
    private readonly request: SseRequest,
  ) {
    this.remote = request.remote
    this.client = request.client
    this.expiresAtMs = request.expiresAtMs
    this.lastId = request.position ?? owner.hub.lastId
    if (request.encoding === 'gzip') this.gzip = new GzipStream()
  }

  patterns(): string[] {
    return [...this.request.filter.patterns]
  }

  bufferedBytes(): number {
    return this.queuedBytes
  }

  /** The body of the direct stream's pull(): resolving it would end the response, so it waits for the end. */
  async run(controller: DirectController): Promise<void> {
    this.controller = controller
    const done = new Promise<void>((resolve, reject) => {
      this.finished = resolve
      // Rejected with no reason: Bun then resets the socket at once and logs nothing.
      this.aborted = () => reject()
    })
    const { opening } = this.owner
    controller.write(this.gzip ? this.gzip.encode(opening) : opening.plain)
    this.owner.watchHeartbeat(this, this.request.heartbeatMs, true)
    if (this.request.idleTimeoutMs !== null) this.idleTimer = setTimeout(() => this.checkIdle(), this.request.idleTimeoutMs)
    this.subscription = this.owner.hub.follow(this.request.filter, this.request.position, this)
    await done
  }

  gap(gap: { after: number; firstId: number }): void {
    this.send(sseControl('gap', gap), this.lastId, 0)
  }

  reset(reset: { after: number; lastId: number }): void {
    this.send(sseControl('reset', reset), this.lastId, 0)
  }

  live(): boolean {
    this.isLive = true
    return true
  }

  failed(): void {
    this.close('replay failed')
  }

  deliver(batch: Batch): void {
    if (this.isDisposed) return
    if (this.pendingGap !== null) {
      if (this.isBlocked) return // still skipping ahead
      this.send(sseControl('gap', { after: this.pendingGap, firstId: batch.events[0].id }), this.lastId, 0)
      this.pendingGap = null
    }
    this.send(batch, batch.lastId, batch.events.length)
  }

  end(): void {
    this.send(END_CLOSED, this.lastId, 0)
    this.close('stream closed')
  }

  /** The token expired: say so in-band, then end; the client reconnects with a fresh one and resumes by id. */
  expire(): void {
    this.send(sseControl('expired', { lastId: this.lastId }), this.lastId, 0)
    this.close('token expired')
  }

  heartbeat(): void {
    // A blocked connection has bytes on the way already; a heartbeat would only grow its queue.
    if (!this.isBlocked) this.send(HEARTBEAT, this.lastId, 0)
  }

  close(_reason: string): void {
    if (this.isDisposed) return
    const controller = this.controller
    // What is still queued is dropped: the gzip trailer counts only what went out.
    if (this.gzip) controller?.write(this.gzip.finish())
    this.dispose()
    try {
      controller?.close()
    } catch {
      // Already closed by the client.
    }
  }

  /** Releases everything the connection holds; safe to call more than once. */
  dispose(): void {
    if (this.isDisposed) return
    this.isDisposed = true
    this.subscription?.close()
    this.owner.watchHeartbeat(this, this.request.heartbeatMs, false)
    clearTimeout(this.idleTimer)
    this.owner.connections.remove(this)
    this.queue = []
    this.queuedBytes = 0
    this.finished?.()
  }

  /** Ends the subscription if no event came for the idle timeout; otherwise looks again when it would be up. */
  private checkIdle(): void {
    const idleMs = Date.now() - (this.lastEventAt ?? this.connectedAt)
    const timeoutMs = this.request.idleTimeoutMs!
    if (idleMs < timeoutMs) {
      this.idleTimer = setTimeout(() => this.checkIdle(), timeoutMs - idleMs)
      return
    }
    this.send(END_TIMEOUT, this.lastId, 0)
    this.close('idle timeout')
  }

  private send(chunk: SseChunk, lastId: number, count: number): void {
    if (this.isDisposed || !this.controller) return
    if (this.isBlocked) {
      this.queue.push({ chunk, lastId, count })
      this.queuedBytes += plainOf(chunk).byteLength
      if (this.queuedBytes > this.owner.options.bufferLimit) this.overflow()
      return
    }
    this.write(chunk, lastId, count)
  }

  private write(chunk: SseChunk, lastId: number, count: number): void {
    // Compressed as it goes out, so the gzip stream holds exactly what was written, whatever a slow consumer's queue dropped.
    const written = this.controller!.write(this.gzip ? this.gzip.encode(chunk) : plainOf(chunk))
    if (count > 0) {
      this.lastId = lastId
      this.delivered += count
      this.lastEventAt = Date.now()
      this.owner.metrics.deliveries.sse += count
    }
    if (typeof written !== 'number') {
      this.isBlocked = true
      written.then(() => this.unblock(), () => this.dispose())
    }
  }

  private unblock(): void {
    this.isBlocked = false
    while (!this.isBlocked && this.queue.length > 0 && !this.isDisposed) {
      const next = this.queue.shift()!
      this.queuedBytes -= plainOf(next.chunk).byteLength
      this.write(next.chunk, next.lastId, next.count)
    }
    if (!this.isBlocked) this.onDrained?.()
  }

  /** Null when the connection takes more now; else resolves when its queue has gone out. */
  drained(): Promise<void> | null {
    if (!this.isBlocked) return null
    return new Promise((resolve) => {
      this.onDrained = () => {
        this.onDrained = undefined
        resolve()
      }
    })
  }

  /** Past the buffer limit: disconnect (the client resumes from its last id) or, with slow=drop, skip ahead. */
  private overflow(): void {
    const { metrics } = this.owner
    if (this.request.slow === 'drop' && this.isLive) {
      metrics.slowGaps.sse++
      this.queue = []
      this.queuedBytes = 0
      this.pendingGap = this.lastId
      return
    }
    metrics.slowDisconnects.sse++
    // A close would wait behind the bytes the client is not reading (forever, with a zero window): reset instead.
    this.aborted?.()
    this.dispose()
  }
}

/** What a response has yet to write. */
interface Queued {
  chunk: SseChunk
  lastId: number
  count: number
}
