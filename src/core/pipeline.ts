import { RingcastError } from './errors'
import type { Event } from './event'
import type { Change, EventLog, Outcome, StreamPatch, Write } from './log'
import { eventFromRow } from './streams'

/** One event to publish, already validated. */
export interface PublishItem {
  type: string
  data: unknown
  key?: string
  correlationId?: string
  terminal?: boolean
}

/** What a publish returns per item: the stored event, or the original's id (and event, if still stored) for a dedup hit. */
export type PublishResult = { event: Event; duplicate: false } | { id: number; event: Event | undefined; duplicate: true }

/** What one group commit did, for metrics. */
export interface CommitStats {
  events: number
  /** Publishes (requests, WebSocket frames, dead letters) answered with their stored events. */
  publishes: number
  duplicates: number
  /** From the first publish of the batch until committed and fanned out. */
  latencyMs: number
}

/** A request waiting for the next group commit. */
export interface Pending {
  request: { kind: 'publish'; items: readonly PublishItem[] } | { kind: 'close' } | { kind: 'configure'; patch: StreamPatch } | { kind: 'delete' }
  stream: string
  /** performance.now() when it was made: the commit latency runs from the batch's oldest. */
  sinceMs: number
  resolve(outcome: Outcome, built: ReadonlyMap<number, Event>): void
  reject(error: unknown): void
}

/** What the pipeline needs of the hub. */
export interface PipelineHub {
  /** The write for one request, or null when it is answered without one; throws what refuses it alone. */
  plan(p: Pending): Write | null
  /** Applies what the log committed; returns the events it built, by id. */
  apply(changes: readonly Change[]): Map<number, Event>
  /** Resolves once this node's follower of a shared log has applied everything up to `position`. */
  settled(position: string): Promise<void>
  committed(stats: CommitStats): void
  failed(message: string, error: unknown): void
}

/**
 * Group commit: the requests of one event-loop turn become one append; while it is in flight the
 * next batch gathers, and goes as soon as it ends. Each request gets its own outcome; one that
 * fails alone fails alone, a failed append fails the batch and stores nothing.
 */
export class Pipeline {
  private pending: Pending[] = []
  private isFlushScheduled = false
  private inFlight: Promise<void> | undefined

  constructor(
    private readonly log: EventLog,
    private readonly dedupWindowSeconds: number,
    private readonly hub: PipelineHub,
  ) {}

  /** Resolves with the request's outcome once committed and applied. */
  submit(stream: string, request: Pending['request']): Promise<{ outcome: Outcome; built: ReadonlyMap<number, Event> }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, request, sinceMs: performance.now(), resolve: (outcome, built) => resolve({ outcome, built }), reject })
      if (!this.isFlushScheduled && !this.inFlight) {
        this.isFlushScheduled = true
        // setImmediate runs after this turn's I/O callbacks: every publish parsed in this turn joins the batch.
        setImmediate(() => this.flush())
      }
    })
  }

  /** Resolves once everything submitted so far is committed (or refused). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight) {
      if (!this.inFlight) this.flush()
      await this.inFlight
    }
  }

  /** One group commit; the next starts when it ends, with whatever arrived meanwhile. */
  private flush(): void {
    this.isFlushScheduled = false
    if (this.inFlight || this.pending.length === 0) return
    const pending = this.pending
    this.pending = []
    this.inFlight = this.commit(pending)
      .catch((error) => {
        // Nothing was committed (a failure after the commit is caught inside): every request of the batch is refused.
        this.hub.failed('publish batch failed before commit', error)
        const failure = new RingcastError('internal', 'The server failed to store this batch; nothing was stored.', 'Retry the publish.')
        for (const p of pending) p.reject(failure)
      })
      .finally(() => {
        this.inFlight = undefined
        if (this.pending.length > 0) this.flush()
      })
  }

  private async commit(pending: Pending[]): Promise<void> {
    const nowMs = Date.now()
    const writes: Write[] = []
    const writers: Pending[] = []
    for (const p of pending) {
      try {
        const write = this.hub.plan(p)
        if (write) {
          writes.push(write)
          writers.push(p)
        }
      } catch (error) {
        p.reject(error)
      }
    }
    if (writes.length === 0) return
    let appended
    try {
      appended = await this.log.append(writes, nowMs, nowMs - this.dedupWindowSeconds * 1000)
    } catch (error) {
      // An unreachable store says so itself (503, Retry-After); anything else is a failure worth a log line.
      if (error instanceof RingcastError && error.code === 'unavailable') {
        for (const p of writers) p.reject(error)
        return
      }
      this.hub.failed('the event log could not commit', error)
      const failure = new RingcastError('unavailable', `The event log could not commit: ${(error as Error).message}`, 'Nothing was stored; retry the publish.', { retryAfter: 1 })
      for (const p of writers) p.reject(failure)
      return
    }
    let built: ReadonlyMap<number, Event> = new Map()
    try {
      if (appended.position === undefined) built = this.hub.apply(appended.changes)
      else {
        // A shared log's changes are applied by the follower, in the cluster's order: answer once this node has them.
        await this.hub.settled(appended.position)
        built = new Map(appended.changes.flatMap((c) => (c.kind === 'event' ? [[c.row.id, eventFromRow(c.row)] as const] : [])))
      }
    } catch (error) {
      // Committed: the publishes succeeded whatever a subscriber did with them.
      this.hub.failed('applying a commit failed', error)
    }
    let publishes = 0
    let duplicates = 0
    let events = 0
    appended.outcomes.forEach((outcome, i) => {
      if (outcome.kind === 'refused') return writers[i].reject(outcome.error)
      if (outcome.kind === 'published') {
        publishes++
        for (const item of outcome.items) {
          if (item.duplicate) duplicates++
          else events++
        }
      }
      writers[i].resolve(outcome, built)
    })
    this.hub.committed({ events, publishes, duplicates, latencyMs: performance.now() - pending[0].sinceMs })
  }
}
