import { Emitter } from './emitter'
import type { Filter } from './filter'
import type { Envelope, Gap, Reset } from './types'

/** `connecting` until first open; `reconnecting` after a connection was lost. */
export type SubscriptionState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface SubscriptionEvents extends Record<string, unknown> {
  gap: Gap
  reset: Reset
  state: SubscriptionState
  /** Transient failures while reconnecting, and the fatal one that ends the subscription. */
  error: Error
}

type Item = { event: Envelope } | { gap: Gap } | { reset: Reset } | { end: Error | null }

/** Events a slow consumer may have queued before the SSE transport stops reading (the server then holds them). */
const HIGH_WATER = 1000

/**
 * A subscription as its user sees it: an async iterable of envelopes in id order, each once, with
 * gap and reset reported in line (just before the events they concern). Transports feed it.
 */
export class Subscription implements AsyncIterable<Envelope> {
  /** Id of the last event handed out (or the position a reset moved to): resume from it with `after`. */
  lastId: number | undefined
  /** @internal Id of the last event received: where a reconnect resumes (events queued but not yet handed out are kept). */
  position: number | undefined
  state: SubscriptionState = 'connecting'
  private readonly items: Item[] = []
  private readonly emitter = new Emitter<SubscriptionEvents>()
  private readonly aborter = new AbortController()
  private wakeReader: (() => void) | undefined
  private wakeTransport: (() => void) | undefined
  private isEnded = false

  /** @internal */
  constructor(readonly filter: Filter, after: number | undefined) {
    this.position = this.lastId = after
  }

  /** @internal Aborted once the subscription is closed: transports stop on it. */
  get signal(): AbortSignal {
    return this.aborter.signal
  }

  on<K extends keyof SubscriptionEvents>(name: K, fn: (value: SubscriptionEvents[K]) => void): () => void {
    return this.emitter.on(name, fn)
  }

  /** Stops the subscription now; events not yet handed out are dropped, and iteration ends. */
  close(): void {
    this.items.length = 0
    this.finish()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Envelope> {
    try {
      for (;;) {
        const item = this.items.shift()
        if (this.items.length < HIGH_WATER) this.wakeTransport?.()
        if (!item) {
          if (this.isEnded) return
          await new Promise<void>((resolve) => (this.wakeReader = resolve))
        } else if ('event' in item) {
          this.lastId = item.event.id
          yield item.event
        } else if ('gap' in item) {
          this.emitter.emit('gap', item.gap)
        } else if ('reset' in item) {
          this.lastId = item.reset.lastId
          this.emitter.emit('reset', item.reset)
        } else {
          this.finish()
          if (item.end) throw item.end
          return
        }
      }
    } finally {
      // `break` out of a for-await ends the subscription.
      this.finish()
    }
  }

  /** @internal Transport side: one event; anything at or before the position was delivered already and is dropped. */
  deliver(event: Envelope): void {
    if (this.signal.aborted || (this.position !== undefined && event.id <= this.position)) return
    this.position = event.id
    this.push({ event })
  }

  /** @internal */
  gap(gap: Gap): void {
    this.push({ gap })
  }

  /** @internal The position was never issued: later events have smaller ids than it, so the position moves back. */
  reset(reset: Reset): void {
    this.position = reset.lastId
    this.push({ reset })
  }

  /** @internal No more events will come (the stream closed, or a fatal error): iteration ends after what is queued. */
  end(error: Error | null = null): void {
    if (this.signal.aborted) return
    if (error) this.emitter.emit('error', error)
    this.push({ end: error })
    this.aborter.abort()
  }

  /** @internal */
  report(error: Error): void {
    this.emitter.emit('error', error)
  }

  /** @internal */
  setState(state: SubscriptionState): void {
    if (this.state === state || this.state === 'closed') return
    this.state = state
    this.emitter.emit('state', state)
  }

  /** @internal Resolves once the queue is short enough to read more. */
  ready(): Promise<void> {
    if (this.items.length < HIGH_WATER || this.isEnded) return Promise.resolve()
    return new Promise((resolve) => (this.wakeTransport = resolve))
  }

  private push(item: Item): void {
    this.items.push(item)
    this.wakeReader?.()
    this.wakeReader = undefined
  }

  private finish(): void {
    if (!this.isEnded) this.aborter.abort()
    this.isEnded = true
    this.setState('closed')
    this.wakeReader?.()
    this.wakeTransport?.()
  }
}
