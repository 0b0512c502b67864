import type { Change, EventLog, Prunable } from './log'
import { RetentionSchedule } from './retention-schedule'
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

/** Most streams one pass looks at, so a pass never holds the event loop long. */
const STREAMS_PER_PASS = 10_000
/** How often expired idempotency keys are swept (sooner while a sweep finds a full batch). */
const KEY_SWEEP_MS = 60_000

/**
 * Background upkeep: brings streams back within max events / max age in small batches,
 * drops pruned events from rings, forgets old dedup keys and evicts idle rings. Each stream is
 * looked at when it is due (over its max events, its oldest event past max age, its ring idle),
 * and the timer sleeps until the next one is: an idle server with many quiet streams does no work
 * and allocates nothing, which also lets Bun's idle GC timer slow down.
 */
export class Retention {
  private timer: ReturnType<typeof setTimeout> | undefined
  private armedAtMs = Number.POSITIVE_INFINITY
  private intervalMs = 0
  private isStarted = false
  private lastPassMs = 0
  private keysDueMs = 0
  private running: Promise<number> | undefined
  private readonly pruner: Prunable | undefined
  private readonly schedule: RetentionSchedule

  constructor(
    log: EventLog,
    private readonly streams: StreamRegistry,
    private readonly options: RetentionOptions,
    private readonly hub: RetentionHub,
  ) {
    this.pruner = 'prune' in log ? (log as unknown as Prunable) : undefined
    this.schedule = new RetentionSchedule((state) => streams.get(state.name) === state)
    const nowMs = Date.now()
    for (const state of streams.all()) this.changed(state, nowMs)
  }

  /** The stream's counts, settings or ring changed: it is looked at when that makes it due. */
  changed(state: StreamState, nowMs = Date.now()): void {
    const due = this.dueOf(state, nowMs)
    this.schedule.queue(state, due)
    if (due < this.armedAtMs) this.arm(due)
  }

  /** Runs passes on their own, at most one per `intervalMs`, each when something is due. */
  start(intervalMs = 250): void {
    this.intervalMs = intervalMs
    this.isStarted = true
    this.lastPassMs = Date.now()
    this.arm(Math.min(this.schedule.nextDueMs(), this.keysDueMs))
  }

  stop(): void {
    this.isStarted = false
    clearTimeout(this.timer)
    this.armedAtMs = Number.POSITIVE_INFINITY
  }

  /** One pass over the streams that are due; resolves with how many events it removed. */
  pass(nowMs = Date.now()): Promise<number> {
    this.running ??= this.run(nowMs).finally(() => {
      this.running = undefined
      this.arm(Math.min(this.schedule.nextDueMs(), this.keysDueMs))
    })
    return this.running
  }

  /** Wakes a pass at `atMs`, or one interval after the last pass if that is later; keeps an earlier wake-up. */
  private arm(atMs: number): void {
    if (!this.isStarted || this.running || atMs === Number.POSITIVE_INFINITY) return
    const at = Math.max(atMs, this.lastPassMs + this.intervalMs)
    if (at >= this.armedAtMs) return
    clearTimeout(this.timer)
    this.armedAtMs = at
    // A due time already past fires at once: a negative delay would do the same, with a warning on stderr.
    this.timer = setTimeout(() => {
      this.armedAtMs = Number.POSITIVE_INFINITY
      // A failed pass (the log busy or full) is retried by the next one; it must not stop the server.
      this.pass().catch((error) => this.hub.failed(error))
    }, Math.max(0, at - Date.now()))
    this.timer.unref?.()
  }

  private async run(nowMs: number): Promise<number> {
    this.lastPassMs = Date.now()
    let budget = this.options.batch
    // Asked only when a stream needs it, at most once per pass.
    let lease: Promise<boolean> | undefined
    const mayPrune = () => (lease ??= this.pruner?.mayPrune?.() ?? Promise.resolve(true))
    const due = this.schedule.takeDue(nowMs, STREAMS_PER_PASS)
    try {
      for (const state of due) {
        if (budget <= 0) break
        budget -= await this.prune(state, nowMs, budget, mayPrune)
        this.evictIdle(state, nowMs)
      }
    } finally {
      // Whatever is still over (budget spent, lease held elsewhere, a failure) is due again next pass.
      for (const state of due) this.changed(state, nowMs)
    }
    if (this.pruner && nowMs >= this.keysDueMs) {
      const forgotten = await this.pruner.pruneKeys(nowMs - this.options.dedupWindowSeconds * 1000, this.options.batch)
      this.keysDueMs = forgotten >= this.options.batch ? nowMs : nowMs + KEY_SWEEP_MS
    }
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
    // A watched ring counts as used: it is looked at again one idle period from now.
    if (this.hub.isWatched(state.name)) state.touchedMs = nowMs
    else state.ring = undefined
  }

  private dueOf(state: StreamState, nowMs: number): number {
    const { maxEvents, maxAgeSeconds } = state.settings
    if (state.events > maxEvents) return nowMs
    let at = state.firstTimeMs === null ? Number.POSITIVE_INFINITY : state.firstTimeMs + maxAgeSeconds * 1000
    if (state.ring && !state.record.ephemeral) at = Math.min(at, state.touchedMs + this.options.ringIdleMs)
    return at
  }
}
