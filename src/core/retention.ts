import type { Log } from './log'
import type { StreamRegistry, StreamState } from './streams'

export interface RetentionOptions {
  dedupWindowSeconds: number
  /** Rings of streams idle this long with no subscriber are dropped, to be rebuilt from the log on demand. */
  ringIdleMs: number
  /** Most events deleted per pass, so pruning never stalls the event loop. */
  batch: number
  /** Smallest id in `stream` a consumer group has delivered and not yet settled: it and later events are kept. */
  heldFrom?(stream: string): number | undefined
}

/**
 * Background upkeep: brings streams back within max events / max age in small batches,
 * drops pruned events from rings, forgets old dedup keys and evicts idle rings.
 */
export class Retention {
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly log: Log,
    private readonly streams: StreamRegistry,
    private readonly options: RetentionOptions,
    private readonly hasSubscribers: (stream: string) => boolean,
    private readonly onPruned: (events: number) => void = () => {},
  ) {}

  start(intervalMs = 250, onError: (error: unknown) => void = () => {}): void {
    this.timer = setInterval(() => {
      try {
        this.pass()
      } catch (error) {
        // A failed pass (the log busy or full) is retried by the next one; it must not stop the server.
        onError(error)
      }
    }, intervalMs)
    this.timer.unref?.()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One pass over every stream; returns how many events it removed. */
  pass(nowMs = Date.now()): number {
    let budget = this.options.batch
    for (const state of this.streams.all()) {
      if (budget <= 0) break
      budget -= this.prune(state, nowMs, budget)
      this.evictIdle(state, nowMs)
    }
    this.log.pruneKeys(nowMs - this.options.dedupWindowSeconds * 1000, this.options.batch)
    const removed = this.options.batch - budget
    if (removed > 0) this.onPruned(removed)
    return removed
  }

  private prune(state: StreamState, nowMs: number, budget: number): number {
    const { maxEvents, maxAgeSeconds } = state.settings
    const beforeMs = nowMs - maxAgeSeconds * 1000
    const isOver = state.events > maxEvents || (state.firstTimeMs !== null && state.firstTimeMs < beforeMs)
    if (!isOver) return 0
    if (state.record.ephemeral) return this.pruneRing(state, maxEvents, beforeMs)
    const { deleted, maxId } = this.log.prune(state.name, maxEvents, beforeMs, budget, this.options.heldFrom?.(state.name))
    if (deleted === 0) return 0
    state.events -= deleted
    this.advance(state, maxId)
    const next = this.log.since([state.name], maxId, 1, null)[0]
    state.firstId = next?.id ?? null
    state.firstTimeMs = next?.timeMs ?? null
    return deleted
  }

  private pruneRing(state: StreamState, maxEvents: number, beforeMs: number): number {
    const ring = this.streams.ring(state)
    const events = ring.tail(Infinity)
    let cut = Math.max(0, events.length - maxEvents)
    while (cut < events.length && events[cut].timeMs < beforeMs) cut++
    if (cut === 0) return 0
    this.advance(state, events[cut - 1].id)
    state.events = ring.size
    state.firstId = ring.firstId ?? null
    state.firstTimeMs = state.firstId === null ? null : events[cut].timeMs
    return cut
  }

  /** Pruned events leave the ring too: no transport may replay what retention removed. */
  private advance(state: StreamState, prunedThrough: number): void {
    state.ring?.dropThrough(prunedThrough)
    state.record.prunedThrough = prunedThrough
    this.log.saveStream(state.record)
  }

  private evictIdle(state: StreamState, nowMs: number): void {
    if (!state.ring || state.record.ephemeral || nowMs - state.touchedMs < this.options.ringIdleMs) return
    if (this.hasSubscribers(state.name)) return
    state.ring = undefined
  }
}
