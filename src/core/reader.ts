import type { Event } from './event'
import type { Filter } from './filter'
import type { Log, RowFilter } from './log'
import { eventFromRow, type StreamRegistry, type StreamState } from './streams'

/** A page of replay. */
export interface ReadResult {
  events: Event[]
  /** Position to read from next: everything up to it that matches is in `events` or earlier pages. */
  next: number
  /** Whether the read reached the newest event (no further page right now). */
  isDone: boolean
  /** Set when events after the position asked from were removed by retention. */
  gap?: { after: number; firstId: number }
  /** Set when the position asked from was never issued. */
  reset?: { after: number; lastId: number }
}

/**
 * Replay for every transport: from rings when they cover the position, from the log when not.
 * Synchronous on purpose: a read followed by a subscribe in the same turn can neither miss nor repeat an event.
 */
export class Reader {
  constructor(
    private readonly log: Log,
    private readonly streams: StreamRegistry,
    private readonly lastId: () => number,
  ) {}

  /** Matching events with id > afterId, oldest first, at most `limit`. */
  read(filter: Filter, afterId: number, limit: number): ReadResult {
    const last = this.lastId()
    if (afterId > last) return { events: [], next: last, isDone: true, reset: { after: afterId, lastId: last } }
    const states = this.streams.matching(filter.patterns)
    const where = rowFilter(filter)
    const fromLog: string[] = []
    let candidates: Event[] = []
    let prunedAbove = false
    for (const state of states) {
      if (state.record.prunedThrough > afterId) prunedAbove = true
      const ring = state.record.ephemeral || state.ring?.covers(afterId) ? this.streams.ring(state) : undefined
      if (ring) candidates = candidates.concat(ring.since(afterId).filter((e) => filter.matches(e)))
      else fromLog.push(state.name)
    }
    const rows = this.log.since(fromLog, afterId, limit, where)
    for (const row of rows) candidates.push(eventFromRow(row))
    if (states.length > 1) candidates.sort((a, b) => a.id - b.id)
    // A full page from the log may have more behind it: stop this page at its last row.
    const bound = rows.length === limit ? rows[rows.length - 1].id : Number.POSITIVE_INFINITY
    if (bound !== Number.POSITIVE_INFINITY) candidates = candidates.filter((e) => e.id <= bound)
    const isDone = bound === Number.POSITIVE_INFINITY && candidates.length <= limit
    const events = candidates.length > limit ? candidates.slice(0, limit) : candidates
    const next = isDone ? Math.max(afterId, last) : events[events.length - 1].id
    const result: ReadResult = { events, next, isDone }
    if (prunedAbove) result.gap = { after: afterId, firstId: events[0]?.id ?? this.firstReplayable(states, afterId, last) }
    return result
  }

  /** The newest `limit` matching events, oldest first. */
  tail(filter: Filter, limit: number): Event[] {
    const states = this.streams.matching(filter.patterns)
    const fromLog: string[] = []
    let candidates: Event[] = []
    for (const state of states) {
      const isWhole = state.ring && (state.ring.floor <= state.record.prunedThrough || (!rowFilter(filter) && state.ring.size >= limit))
      const ring = state.record.ephemeral || isWhole ? this.streams.ring(state) : undefined
      // Without type or correlation filters every event of the ring matches: take only the newest.
      if (ring) candidates = candidates.concat(rowFilter(filter) ? ring.tail(Infinity).filter((e) => filter.matches(e)) : ring.tail(limit))
      else fromLog.push(state.name)
    }
    for (const row of this.log.tail(fromLog, limit, rowFilter(filter))) candidates.push(eventFromRow(row))
    candidates.sort((a, b) => a.id - b.id)
    return candidates.slice(-limit)
  }

  /** A position just before the first matching event at or after `timeMs`. */
  positionAt(filter: Filter, timeMs: number): number {
    const states = this.streams.matching(filter.patterns)
    let position = this.log.positionAt(
      states.filter((s) => !s.record.ephemeral).map((s) => s.name),
      timeMs,
    )
    for (const state of states) {
      if (!state.record.ephemeral) continue
      const first = this.streams.ring(state).tail(Infinity).find((e) => e.timeMs >= timeMs)
      if (first && first.id - 1 < position) position = first.id - 1
    }
    return position
  }

  private firstReplayable(states: StreamState[], afterId: number, last: number): number {
    let first = last + 1
    for (const s of states) if (s.firstId !== null && s.firstId > afterId && s.firstId < first) first = s.firstId
    return first
  }
}

function rowFilter(filter: Filter): RowFilter | null {
  if (!filter.types && filter.correlationId === null) return null
  return { types: filter.types ? [...filter.types] : null, correlationId: filter.correlationId }
}
