import type { Event } from './event'
import type { Filter } from './filter'
import type { EventLog, RowFilter } from './log'
import type { Ring } from './ring'
import { eventFromRow, ringOf, type StreamRegistry, type StreamState } from './streams'

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
 * Asynchronous: whoever goes live after a read must have registered before it (Hub.follow does).
 */
export class Reader {
  constructor(
    private readonly log: EventLog,
    private readonly streams: StreamRegistry,
    /** Highest id this node has applied. */
    private readonly applied: () => number,
    /** A read built or used the stream's ring (retention then knows when it goes idle). */
    private readonly ringUsed: (state: StreamState) => void = () => {},
  ) {}

  /** Matching events with id > afterId, oldest first, at most `limit`. */
  async read(filter: Filter, afterId: number, limit: number): Promise<ReadResult> {
    const applied = this.applied()
    let last = applied
    if (afterId > last) {
      // Past what this node applied: another writer of a shared log may have issued it.
      last = Math.max(last, await this.log.head())
      if (afterId > last) return { events: [], next: last, isDone: true, reset: { after: afterId, lastId: last } }
    }
    const states = this.streams.matching(filter.patterns)
    const where = rowFilter(filter)
    const fromLog: string[] = []
    let candidates: Event[] = []
    let prunedAbove = false
    for (const state of states) {
      if (state.record.prunedThrough > afterId) prunedAbove = true
      // Awaited only when it has to be built: a live reader's read is answered from the ring without a turn of the loop.
      const ring = state.record.ephemeral ? await this.ringFor(state) : state.ring?.covers(afterId) ? state.ring : undefined
      if (!ring) {
        fromLog.push(state.name)
        continue
      }
      // One stream's ring, with no type or correlation filter, matches whole: one more than a page says there is more.
      const found = states.length === 1 && !where ? ring.since(afterId, limit + 1) : ring.since(afterId).filter((e) => filter.matches(e))
      if (found.length > 0) candidates = candidates.length === 0 ? found : candidates.concat(found)
    }
    const rows = fromLog.length > 0 ? await this.log.read(fromLog, afterId, limit, where) : []
    // Never past what this node applied: rings hold only that, and a follow picks up the rest live.
    for (const row of rows) if (row.id <= applied) candidates.push(eventFromRow(row))
    if (states.length > 1) candidates.sort((a, b) => a.id - b.id)
    // A full page from the log may have more behind it: stop this page at its last row.
    const bound = rows.length === limit ? rows[rows.length - 1].id : Number.POSITIVE_INFINITY
    if (bound !== Number.POSITIVE_INFINITY) candidates = candidates.filter((e) => e.id <= bound)
    const isDone = bound === Number.POSITIVE_INFINITY && candidates.length <= limit
    const events = candidates.length > limit ? candidates.slice(0, limit) : candidates
    const newest = events.length > 0 ? events[events.length - 1].id : afterId
    const next = isDone ? Math.max(afterId, last, newest) : newest
    const result: ReadResult = { events, next, isDone }
    if (prunedAbove) result.gap = { after: afterId, firstId: events[0]?.id ?? this.firstReplayable(states, afterId, last) }
    return result
  }

  /** The newest `limit` matching events (with id < `beforeId` when given), oldest first. */
  async tail(filter: Filter, limit: number, beforeId?: number): Promise<Event[]> {
    const states = this.streams.matching(filter.patterns)
    const where = rowFilter(filter)
    const below = beforeId ?? Number.POSITIVE_INFINITY
    const fromLog: string[] = []
    let candidates: Event[] = []
    for (const state of states) {
      // Without type or correlation filters every event of the ring matches: its newest are the answer when there are enough.
      const newest = !where && state.ring ? state.ring.before(below, limit) : undefined
      const isWhole = state.ring && (state.ring.floor <= state.record.prunedThrough || (newest !== undefined && newest.length >= limit))
      const ring = state.record.ephemeral || isWhole ? await this.ringFor(state) : undefined
      if (!ring) fromLog.push(state.name)
      else if (where) candidates = candidates.concat(ring.before(below, Infinity).filter((e) => filter.matches(e)))
      else candidates = candidates.concat(newest ?? ring.before(below, limit))
    }
    const applied = this.applied()
    for (const row of await this.log.tail(fromLog, limit, where, beforeId)) if (row.id <= applied) candidates.push(eventFromRow(row))
    candidates.sort((a, b) => a.id - b.id)
    return candidates.slice(-limit)
  }

  /** A position just before the first matching event at or after `timeMs`. */
  async positionAt(filter: Filter, timeMs: number): Promise<number> {
    const states = this.streams.matching(filter.patterns)
    let position = await this.log.positionAt(
      states.filter((s) => !s.record.ephemeral).map((s) => s.name),
      timeMs,
    )
    for (const state of states) {
      if (!state.record.ephemeral) continue
      const first = (await this.ringFor(state)).tail(Infinity).find((e) => e.timeMs >= timeMs)
      if (first && first.id - 1 < position) position = first.id - 1
    }
    return position
  }

  /** Stored events of one stream by id (those retention kept), ring first. */
  async events(stream: string, ids: readonly number[]): Promise<Event[]> {
    const state = this.streams.get(stream)
    if (!state || ids.length === 0) return []
    const wanted = new Set(ids)
    const found = new Map<number, Event>()
    for (const e of state.ring?.tail(Infinity) ?? []) if (wanted.has(e.id)) found.set(e.id, e)
    const missing = ids.filter((id) => !found.has(id))
    if (missing.length > 0 && !state.record.ephemeral) for (const row of await this.log.get(stream, missing)) found.set(row.id, eventFromRow(row))
    return [...found.values()].sort((a, b) => a.id - b.id)
  }

  /** The stream's ring, built now (a new or ephemeral stream) or rebuilt from the log (an evicted one). */
  async ringFor(state: StreamState): Promise<Ring> {
    const ring = await ringOf(state, (stream, n) => this.log.tail([stream], n, null))
    this.ringUsed(state)
    return ring
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

