import { type Envelope, Event } from './event'
import type { LogRow, StreamRecord, StreamStats } from './log'
import { NameIndex } from './name-index'
import { isWildcard, matches } from './pattern'
import { Ring } from './ring'

/** Stream settings as configured; unset fields fall back to pattern defaults, then server defaults. */
export interface StreamSettings {
  ringSize: number
  maxEvents: number
  maxAgeSeconds: number
  ephemeral: boolean
}

/** A default for the streams whose names match `pattern` (from the config file). */
export interface StreamDefault extends Partial<StreamSettings> {
  pattern: string
}

/** What the rest of the server may read of a stream. */
export interface StreamView {
  readonly name: string
  readonly record: Readonly<StreamRecord>
  readonly settings: Readonly<StreamSettings>
  readonly events: number
  readonly firstId: number | null
  readonly lastId: number | null
  eventsPerSecond(nowMs?: number): number
}

/** One stream's in-memory state: its record, its counters and, while active, its ring. */
export class StreamState implements StreamView {
  ring: Ring | undefined
  /** A ring being rebuilt from the log, and the events applied meanwhile (added once it is built). */
  loading: { ring: Promise<Ring>; applied: Event[] } | undefined
  events = 0
  firstId: number | null = null
  lastId: number | null = null
  firstTimeMs: number | null = null
  touchedMs = Date.now()
  /** When retention next looks at it (Infinity: not queued). */
  dueMs = Number.POSITIVE_INFINITY
  // Events in the current and the previous second: a rate for listings at the cost of three numbers per stream.
  private rateSecond = 0
  private thisSecond = 0
  private lastSecond = 0

  constructor(
    public record: StreamRecord,
    public settings: StreamSettings,
    /** Whether the log has its record (a stream first seen in this turn does not yet). */
    public isStored = false,
  ) {}

  get name(): string {
    return this.record.name
  }

  /** Counts a committed event. */
  appended(event: Event): void {
    if (this.firstId === null) {
      this.firstId = event.id
      this.firstTimeMs = event.timeMs
    }
    this.lastId = event.id
    this.events++
    this.touchedMs = Date.now()
    this.count(this.touchedMs, 1)
  }

  /** Takes the log's count of what retention kept. */
  counted(stats: StreamStats): void {
    this.events = stats.events
    this.firstId = stats.firstId
    this.lastId = stats.lastId ?? this.lastId
    this.firstTimeMs = stats.firstTimeMs
  }

  /** Events appended in the last whole second. */
  eventsPerSecond(nowMs = Date.now()): number {
    this.count(nowMs, 0)
    return this.lastSecond
  }

  private count(nowMs: number, n: number): void {
    const second = Math.floor(nowMs / 1000)
    if (second !== this.rateSecond) {
      this.lastSecond = second === this.rateSecond + 1 ? this.thisSecond : 0
      this.thisSecond = 0
      this.rateSecond = second
    }
    this.thisSecond += n
  }
}

/** Builds an Event from a log row; the envelope text is rebuilt with the same field order as at publish. */
export function eventFromRow(row: LogRow): Event {
  const env: Envelope = { id: row.id, stream: row.stream, type: row.type, data: undefined, time: isoTime(row.timeMs) }
  if (row.key !== null) env.key = row.key
  if (row.correlationId !== null) env.correlationId = row.correlationId
  return new Event(row.id, row.stream, row.type, row.timeMs, row.correlationId ?? undefined, envelopeJson(env, row.data))
}

// The events of one commit share their time: the last one formatted is usually the next one asked for.
let lastTimeMs = Number.NaN
let lastTime = ''
function isoTime(timeMs: number): string {
  if (timeMs !== lastTimeMs) {
    lastTime = new Date(timeMs).toISOString()
    lastTimeMs = timeMs
  }
  return lastTime
}

/** The envelope as JSON, with `data` spliced in as already-serialized text. */
export function envelopeJson(env: Envelope, dataJson: string): string {
  let json = `{"id":${env.id},"stream":${JSON.stringify(env.stream)},"type":${JSON.stringify(env.type)},"data":${dataJson},"time":"${env.time}"`
  if (env.key !== undefined) json += `,"key":${JSON.stringify(env.key)}`
  if (env.correlationId !== undefined) json += `,"correlationId":${JSON.stringify(env.correlationId)}`
  return `${json}}`
}

/** Every stream the server knows, by name and by pattern, with settings resolved from record, pattern defaults and server defaults. */
export class StreamRegistry {
  private readonly byName = new Map<string, StreamState>()
  private readonly byPattern = new NameIndex<StreamState>()
  // Streams without settings of their own share one frozen object per resolution, not one each.
  private readonly shared = new Map<string, Readonly<StreamSettings>>()

  constructor(
    private readonly defaults: StreamSettings,
    private readonly patternDefaults: readonly StreamDefault[],
  ) {}

  get(name: string): StreamState | undefined {
    return this.byName.get(name)
  }

  /** A stream as the log knows it (at start, or a record another change brought). */
  load(record: StreamRecord, stats?: StreamStats): StreamState {
    let state = this.byName.get(record.name)
    if (state) state.record = { ...record }
    else this.add((state = new StreamState({ ...record }, this.resolve(record), true)))
    state.isStored = true
    this.refresh(state)
    if (stats) state.counted(stats)
    return state
  }

  /** The stream's state, created (in memory only) on first use. */
  getOrCreate(name: string): StreamState {
    let state = this.byName.get(name)
    if (!state) {
      const record: StreamRecord = { name, ringSize: null, maxEvents: null, maxAgeSeconds: null, ephemeral: false, closed: false, prunedThrough: 0 }
      // Whether a stream is ephemeral is fixed in its record when it is created, from the pattern defaults.
      record.ephemeral = this.resolve(record, true).ephemeral
      state = new StreamState(record, this.resolve(record))
      this.add(state)
    }
    return state
  }

  all(): IterableIterator<StreamState> {
    return this.byName.values()
  }

  get size(): number {
    return this.byName.size
  }

  /** Known streams that `patterns` select, each once. */
  matching(patterns: readonly string[]): StreamState[] {
    if (patterns.length === 1) {
      // One exact name, the common poll and subscription, is a map lookup, not a walk of the index.
      if (!isWildcard(patterns[0])) {
        const state = this.byName.get(patterns[0])
        return state ? [state] : []
      }
      return this.byPattern.select(patterns[0])
    }
    const out = new Set<StreamState>()
    for (const p of patterns) for (const s of this.byPattern.select(p)) out.add(s)
    return [...out]
  }

  remove(name: string): void {
    this.byName.delete(name)
    this.byPattern.delete(name)
  }

  /** Re-resolves settings after the record changed; resizes the ring if needed. */
  refresh(state: StreamState): void {
    state.settings = this.resolve(state.record)
    if (state.ring && state.ring.capacity !== state.settings.ringSize) state.ring = state.ring.resized(state.settings.ringSize)
  }

  private add(state: StreamState): void {
    this.byName.set(state.name, state)
    this.byPattern.set(state.name, state)
  }

  private resolve(record: StreamRecord, isNew = false): StreamSettings {
    const settings = this.resolveFresh(record, isNew)
    if (record.ringSize !== null || record.maxEvents !== null || record.maxAgeSeconds !== null) return settings
    const key = `${settings.ringSize}:${settings.maxEvents}:${settings.maxAgeSeconds}:${settings.ephemeral}`
    let shared = this.shared.get(key)
    if (!shared) this.shared.set(key, (shared = Object.freeze(settings)))
    return shared
  }

  private resolveFresh(record: StreamRecord, isNew: boolean): StreamSettings {
    const settings = { ...this.defaults }
    for (const d of this.patternDefaults) {
      if (!matches(d.pattern, record.name)) continue
      if (d.ringSize !== undefined) settings.ringSize = d.ringSize
      if (d.maxEvents !== undefined) settings.maxEvents = d.maxEvents
      if (d.maxAgeSeconds !== undefined) settings.maxAgeSeconds = d.maxAgeSeconds
      if (d.ephemeral !== undefined) settings.ephemeral = d.ephemeral
      break
    }
    if (record.ringSize !== null) settings.ringSize = record.ringSize
    if (record.maxEvents !== null) settings.maxEvents = record.maxEvents
    if (record.maxAgeSeconds !== null) settings.maxAgeSeconds = record.maxAgeSeconds
    if (!isNew) settings.ephemeral = record.ephemeral
    return settings
  }
}

/**
 * The stream's ring, rebuilt from the log when it was evicted or never built. Events applied while
 * the log is read join it once built, so the ring never misses one.
 */
export async function ringOf(state: StreamState, readTail: (stream: string, n: number) => Promise<LogRow[]>): Promise<Ring> {
  if (state.ring) return state.ring
  if (state.record.ephemeral || state.events === 0) return (state.ring = new Ring(state.settings.ringSize, state.record.prunedThrough))
  if (!state.loading) {
    const applied: Event[] = []
    const ring = (async () => {
      const { ringSize } = state.settings
      let rows: LogRow[]
      try {
        rows = await readTail(state.name, ringSize)
      } catch (error) {
        if (state.loading?.applied === applied) state.loading = undefined
        throw error
      }
      const built = new Ring(ringSize, state.record.prunedThrough)
      for (const row of rows) built.push(eventFromRow(row))
      if (rows.length === ringSize) built.floor = Math.max(built.floor, rows[0].id - 1)
      for (const e of applied) if (e.id > built.lastId) built.push(e)
      if (state.loading?.applied === applied) {
        state.ring = built
        state.loading = undefined
      }
      return built
    })()
    state.loading = { ring, applied }
  }
  return state.loading.ring
}
