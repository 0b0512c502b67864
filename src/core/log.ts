/** One event as the log stores it; `data` is JSON text so nothing is parsed or re-serialized on replay. */
export interface LogRow {
  id: number
  stream: string
  type: string
  data: string
  timeMs: number
  key: string | null
  correlationId: string | null
}

/** Narrows a read to some event types and/or one correlation id. */
export interface RowFilter {
  types: readonly string[] | null
  correlationId: string | null
}

/** Per-stream settings and state that outlive a restart. */
export interface StreamRecord {
  name: string
  ringSize: number | null
  maxEvents: number | null
  maxAgeSeconds: number | null
  ephemeral: boolean
  closed: boolean
  /** Highest id retention removed (or ring overflow, for ephemeral streams); replays from below it have a gap. */
  prunedThrough: number
}

export interface StreamStats {
  name: string
  events: number
  firstId: number | null
  lastId: number | null
  firstTimeMs: number | null
}

/** What one group commit writes, in one transaction. */
export interface Commit {
  rows: LogRow[]
  /** Dedup keys to remember, including those of ephemeral events. */
  keys: { stream: string; key: string; id: number; timeMs: number }[]
  streams: StreamRecord[]
  lastId: number
}

/**
 * The port through which the hub persists and replays. Every method is synchronous:
 * the hub relies on a read and the switch to live delivery happening in one turn.
 */
export interface Log {
  /** Highest id ever issued, ephemeral events included. */
  lastId(): number
  commit(commit: Commit): void
  streams(): StreamRecord[]
  stats(): StreamStats[]
  saveStream(record: StreamRecord): void
  deleteStream(name: string): void
  /** Events of these streams with id > afterId, oldest first. */
  since(streams: readonly string[], afterId: number, limit: number, where: RowFilter | null): LogRow[]
  /** The newest `limit` events of these streams, oldest first. */
  tail(streams: readonly string[], limit: number, where: RowFilter | null): LogRow[]
  /** Id of the first event of these streams at or after `timeMs`, minus one: a position to read from. */
  positionAt(streams: readonly string[], timeMs: number): number
  /** Id of an event published with this key to this stream at or after `sinceMs`. */
  findKey(stream: string, key: string, sinceMs: number): number | undefined
  /** Reads one stored event by id. */
  get(id: number): LogRow | undefined
  /** Deletes up to `batch` of the oldest events of `stream` beyond its newest `keep` or older than `beforeMs`, never an id >= `belowId`. */
  prune(stream: string, keep: number, beforeMs: number, batch: number, belowId?: number): { deleted: number; maxId: number }
  /** Forgets dedup keys older than `beforeMs`, at most `batch`. */
  pruneKeys(beforeMs: number, batch: number): number
  /** Whether a write would succeed now (readiness). */
  isWritable(): boolean
  /** Bytes on disk, WAL included (0 in memory). */
  sizeBytes(): number
  checkpoint(): void
  close(): void
}
