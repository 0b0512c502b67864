import type { Change, EventLog, Prunable } from './log'
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

/** What retention needs of the hub. */
export interface RetentionHub {
  /** Applies a prune the log committed (rings, counters), as every node does. */
  apply(change: Change): void
  /** Whether a live subscriber watches the stream (its ring is kept). */
  isWatched(stream: string): boolean
  pruned(events: number): void
  failed(error: unknown): void
}

/**
 * Background upkeep: brings streams back within max events / max age in small batches,
 * drops pruned events from rings, forgets old dedup keys and evicts idle rings.
 */
export class Retention {
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<number> | undefined
  private readonly pruner: Prunable | undefined

  constructor(
    log: EventLog,
    private readonly streams: StreamRegistry,
    private readonly options: RetentionOptions,
    private readonly hub: RetentionHub,
  ) {
    this.pruner = 'prune' in log ? (log as unknown as Prunable) : undefined
  }

  start(intervalMs = 250): void {
    this.timer = setInterval(() => {
      // A failed pass (the log busy or full) is retried by the next one; it must not stop the server.
      if (!this.running) this.pass().catch((error) => this.hub.failed(error))
    }, intervalMs)
    this.timer.unref?.()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One pass over every stream; resolves with how many events it removed. */
  pass(nowMs = Date.now()): Promise<number> {
    this.running ??= this.run(nowMs).finally(() => (this.running = undefined))
    return this.running
  }

  private async run(nowMs: number): Promise<number> {
    let budget = this.options.batch
    // Asked only when a stream needs it, at most once per pass.
    let lease: Promise<boolean> | undefined
    const mayPrune = () => (lease ??= this.pruner?.mayPrune?.() ?? Promise.resolve(true))
    for (const state of [...this.streams.all()]) {
      if (budget <= 0) break
      budget -= await this.prune(state, nowMs, budget, mayPrune)
      this.evictIdle(state, nowMs)
    }
    await this.pruner?.pruneKeys(nowMs - this.options.dedupWindowSeconds * 1000, this.options.batch)
    const removed = this.options.batch - budget
    if (removed > 0) this.hub.pruned(removed)
    return removed
  }

  /** `mayPrune`: whether this node prunes the log (on a shared log, one node at a time does). */
  private async prune(state: StreamState, nowMs: number, budget: number, mayPrune: () => Promise<boolean>): Promise<number> {
    const { maxEvents, maxAgeSeconds } = state.settings
    const beforeMs = nowMs - maxAgeSeconds * 1000
    const isOver = state.events > maxEvents || (state.firstTimeMs !== null && state.firstTimeMs < beforeMs)
    if (!isOver) return 0
    if (state.record.ephemeral) return this.pruneRing(state, maxEvents, beforeMs)
    if (!this.pruner || !(await mayPrune())) return 0
    const change = await this.pruner.prune(state.name, maxEvents, beforeMs, budget, this.options.heldFrom?.(state.name) ?? Number.MAX_SAFE_INTEGER)
    if (change?.kind !== 'prune') return 0
    this.hub.apply(change)
    return change.removed
  }

  /** An ephemeral stream's ring is all it has: it is trimmed where it is, on each node. */
  private pruneRing(state: StreamState, maxEvents: number, beforeMs: number): number {
    const ring = state.ring
    if (!ring) return 0
    const events = ring.tail(Infinity)
    let cut = Math.max(0, events.length - maxEvents)
    while (cut < events.length && events[cut].timeMs < beforeMs) cut++
    if (cut === 0) return 0
    // Pruned events leave the ring too: no transport may replay what retention removed.
    const through = events[cut - 1].id
    ring.dropThrough(through)
    state.record.prunedThrough = through
    state.events = ring.size
    state.firstId = ring.firstId ?? null
    state.firstTimeMs = state.firstId === null ? null : events[cut].timeMs
    return cut
  }

  private evictIdle(state: StreamState, nowMs: number): void {
    if (!state.ring || state.record.ephemeral || nowMs - state.touchedMs < this.options.ringIdleMs) return
    if (this.hub.isWatched(state.name)) return
    state.ring = undefined
  }
}
