import type { Event } from '../core/event'
import type { Batch } from '../core/feed'
import type { Filter } from '../core/filter'
import type { Hub } from '../core/hub'
import type { ReadResult } from '../core/reader'
import type { FollowSink, Subscription } from '../core/subscription'
import type { Metrics } from '../metrics'
import { type Connection, type Connections, connectionId } from './connections'
import { Deadlines, type Slot } from './deadlines'

export interface PollRequest {
  filter: Filter
  after: number | null
  /** Page backwards instead: the newest `limit` matching events with a smaller id (never waits). */
  before: number | null
  /** Epoch ms: start at the first event at or after it (when `after` is not given). */
  sinceMs: number | null
  limit: number
  waitMs: number
  /** Read only by a long-poll that has to wait, as are `signal` and `expiresAtMs`. */
  caller: { readonly remote: string; readonly client: string }
  expiresAtMs: number | null
  signal: () => AbortSignal
}

/** A polling page; `next` is always the position to poll from next. */
export interface PollPage {
  events: readonly Event[]
  next: number
  closed: boolean
  gap?: ReadResult['gap']
  reset?: ReadResult['reset']
}

/** JSON polling, long-polling and NDJSON export over the hub. */
export class PollTransport {
  // Most long-polls are answered before their wait is up: a shared slot per 50 ms is cheaper than a timer each.
  private readonly deadlines = new Deadlines<LongPoll>(50, (w) => w.timedOut())
  // Every long-poll lets go through this one function, not a closure of its own.
  private readonly release = (waiter: LongPoll): void => {
    waiter.subscription?.close()
    this.connections.remove(waiter)
  }

  constructor(
    private readonly hub: Hub,
    private readonly connections: Connections,
    private readonly metrics: Metrics,
  ) {}

  async page(request: PollRequest): Promise<PollPage> {
    const { hub } = this
    const { filter, limit } = request
    if (request.before !== null) {
      const events = await hub.tail(filter, limit, request.before)
      return this.counted({ events, next: events.length > 0 ? events[events.length - 1].id : Math.min(request.before - 1, hub.lastId), closed: hub.isClosed(filter) })
    }
    const position = request.after ?? (request.sinceMs !== null ? await hub.positionAt(filter, request.sinceMs) : null)
    let page: PollPage
    if (position === null) {
      const events = await hub.tail(filter, limit)
      page = { events, next: events.length > 0 ? events[events.length - 1].id : hub.lastId, closed: hub.isClosed(filter) }
    } else {
      const read = await hub.read(filter, position, limit)
      const events = read.events
      page = { events, next: events.length > 0 ? events[events.length - 1].id : read.reset ? read.reset.lastId : position, closed: hub.isClosed(filter) }
      if (read.gap) page.gap = read.gap
      if (read.reset) page.reset = read.reset
    }
    // A gap or reset is news in itself: answer at once rather than lose it to the events a wait brings.
    if (page.events.length > 0 || page.closed || page.gap || page.reset || request.waitMs <= 0) return this.counted(page)
    // Nothing yet: follow from where the read ended, so an event committed since is not missed.
    const events = await this.wait(request, page.next)
    if (events.length === 0) return { ...page, closed: hub.isClosed(filter) }
    const sliced = events.slice(0, limit)
    return this.counted({ events: sliced, next: sliced[sliced.length - 1].id, closed: hub.isClosed(filter) })
  }

  /** Every matching event after `after` up to the newest at the start, as NDJSON lines, read page by page. */
  export(filter: Filter, after: number): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder()
    const until = this.hub.lastId
    let position = after
    return new ReadableStream({
      pull: async (controller) => {
        const page = await this.hub.read(filter, position, 1000)
        const events = page.events.filter((e) => e.id <= until)
        if (events.length > 0) controller.enqueue(encoder.encode(`${events.map((e) => e.json).join('\n')}\n`))
        position = page.next
        if (page.isDone || events.length < page.events.length || position >= until) controller.close()
      },
    })
  }

  private counted(page: PollPage): PollPage {
    this.metrics.deliveries.poll += page.events.length
    return page
  }

  private wait(request: PollRequest, from: number): Promise<readonly Event[]> {
    return new Promise((resolve) => {
      const waiter = new LongPoll(request, resolve, this.release)
      this.connections.add(waiter) // throws past a connection limit, before anything is held
      // Nothing applied since the read: live from here, without reading the same nothing again.
      waiter.subscription = this.hub.follow(request.filter, this.hub.lastId === from ? null : from, waiter)
      waiter.start(this.deadlines)
    })
  }
}

/** A long-poll waiting for its first batch; it counts as a live connection while it waits. */
class LongPoll implements FollowSink, Connection {
  readonly transport = 'poll'
  readonly connectedAt = Date.now()
  readonly expiresAtMs: number | null
  delivered = 0
  lastEventAt: number | null = null
  subscription: Subscription | undefined
  private ownId: string | undefined
  private deadline: Slot<LongPoll> | undefined
  private isDone = false

  constructor(
    private readonly request: PollRequest,
    private readonly resolve: (events: readonly Event[]) => void,
    private readonly release: (w: LongPoll) => void,
  ) {
    this.expiresAtMs = request.expiresAtMs
  }

  // Named only when listed or logged: most long-polls never are.
  get id(): string {
    return (this.ownId ??= connectionId('poll'))
  }

  // Asked for only when listed or counted against a limit: the address lookup is a syscall.
  get remote(): string {
    return this.request.caller.remote
  }

  get client(): string {
    return this.request.caller.client
  }

  start(deadlines: Deadlines<LongPoll>): void {
    if (this.isDone) return
    this.deadline = deadlines.add(this, this.request.waitMs)
    const signal = this.request.signal()
    if (signal.aborted) this.finish([])
    // The request's own signal, for this long-poll alone: the handler property costs far less than addEventListener.
    else signal.onabort = () => this.finish([])
  }

  timedOut(): void {
    this.finish([])
  }

  patterns(): string[] {
    return [...this.request.filter.patterns]
  }

  bufferedBytes(): number {
    return 0
  }

  deliver(batch: Batch): void {
    this.finish(batch.events)
  }

  gap(): void {}

  reset(): void {}

  drained(): null {
    return null
  }

  end(): void {
    this.finish([])
  }

  failed(): void {
    this.finish([])
  }

  close(): void {
    this.finish([])
  }

  expire(): void {
    this.finish([])
  }

  private finish(events: readonly Event[]): void {
    if (this.isDone) return
    this.isDone = true
    this.deadline?.delete(this)
    this.release(this)
    this.resolve(events)
  }
}
