import { Event, type Envelope } from './event'
import type { Log, LogRow, StreamRecord, StreamStats } from './log'
import { matches } from './pattern'
import { NameIndex } from './name-index'
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

/** One stream's in-memory state: its record, its counters and, while active, its ring. */
export class StreamState {
  ring: Ring | undefined
  events = 0
  firstId: number | null = null
  lastId: number | null = null
  firstTimeMs: number | null = null
  touchedMs = Date.now()
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

  /** Records a committed event; the ring must already have been built if it is used. */
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
  const env: Envelope = {
    id: row.id,
    stream: row.stream,
    type: row.type,
    data: undefined,
    time: new Date(row.timeMs).toISOString(),
  }
  if (row.key !== null) env.key = row.key
  if (row.correlationId !== null) env.correlationId = row.correlationId
  return new Event(env, envelopeJson(env, row.data))
}

/** The envelope as JSON, with `data` spliced in as already-serialized text. */
export function envelopeJson(env: Envelope, dataJson: string): string {
  let json = `{"id":${env.id},"stream":${JSON.stringify(env.stream)},"type":${JSON.stringify(env.type)},"data":${dataJson},"time":"${env.time}"`
  if (env.key !== undefined) json += `,"key":${JSON.stringify(env.key)}`
  if (env.correlationId !== undefined) json += `,"correlationId":${JSON.stringify(env.correlationId)}`
  return `${json}}`
}

/** Every stream the server knows, by name, with settings resolved from record, pattern defaults and server defaults. */
export class StreamRegistry {
  private readonly byName = new Map<string, StreamState>()
  private readonly byPattern = new NameIndex<StreamState>()

  constructor(
    private readonly log: Log,
    private readonly defaults: StreamSettings,
    private readonly patternDefaults: readonly StreamDefault[],
  ) {
    for (const record of log.streams()) {
      // An ephemeral stream's ring died with the last process: everything issued before now is gone.
      if (record.ephemeral) record.prunedThrough = Math.max(record.prunedThrough, log.lastId())
      this.add(new StreamState(record, this.resolve(record), true))
    }
    for (const stats of log.stats()) this.applyStats(this.getOrCreate(stats.name), stats)
  }

  get(name: string): StreamState | undefined {
    return this.byName.get(name)
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
    if (patterns.length === 1) return this.byPattern.select(patterns[0])
    const out = new Set<StreamState>()
    for (const p of patterns) for (const s of this.byPattern.select(p)) out.add(s)
    return [...out]
  }

  remove(name: string): void {
    this.byName.delete(name)
    this.byPattern.delete(name)
  }

  private add(state: StreamState): void {
    this.byName.set(state.name, state)
    this.byPattern.set(state.name, state)
  }

  /** Re-resolves settings after the record changed; resizes the ring if needed. */
  refresh(state: StreamState): void {
    state.settings = this.resolve(state.record)
    if (state.ring && state.ring.capacity !== state.settings.ringSize) state.ring = state.ring.resized(state.settings.ringSize)
  }

  /** The ring, rebuilt from the log when it was evicted (or never built). */
  ring(state: StreamState): Ring {
    if (state.ring) return state.ring
    const { ringSize } = state.settings
    const ring = new Ring(ringSize, state.record.prunedThrough)
    if (!state.record.ephemeral && state.events > 0) {
      const rows = this.log.tail([state.name], ringSize, null)
      for (const row of rows) ring.push(eventFromRow(row))
      if (state.events > rows.length && rows.length > 0) ring.floor = rows[0].id - 1
    }
    state.ring = ring
    return ring
  }

  private resolve(record: StreamRecord, isNew = false): StreamSettings {
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

  private applyStats(state: StreamState, stats: StreamStats): void {
    state.events = stats.events
    state.firstId = stats.firstId
    state.lastId = stats.lastId
    state.firstTimeMs = stats.firstTimeMs
  }
}
