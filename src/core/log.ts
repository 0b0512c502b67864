import type { RingcastError } from './errors'

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

/** The settings a PUT may change. */
export type StreamPatch = Partial<Pick<StreamRecord, 'ringSize' | 'maxEvents' | 'maxAgeSeconds' | 'ephemeral'>>

/** A stream's retained history, as counted by the log. */
export interface StreamStats {
  events: number
  firstId: number | null
  lastId: number | null
  firstTimeMs: number | null
}

/** One event to store: `data` already JSON text. */
export interface StoredItem {
  type: string
  data: string
  key?: string
  correlationId?: string
  /** Closes the stream after this event. */
  terminal?: boolean
}

/** One thing to commit. `create` is the record for a stream the hub has not seen stored, used only if the log has none. */
export type Write =
  | { kind: 'publish'; stream: string; create?: StreamRecord; items: readonly StoredItem[] }
  | { kind: 'close'; stream: string; create?: StreamRecord }
  | { kind: 'configure'; stream: string; create?: StreamRecord; patch: StreamPatch }
  | { kind: 'delete'; stream: string }

/** An item's outcome: a new id, or the id of the event first stored under its key. */
export type ItemOutcome = { id: number; duplicate: boolean }

/** What one write came to, in the order of the writes. */
export type Outcome = { kind: 'published'; items: ItemOutcome[] } | { kind: 'done' } | { kind: 'refused'; error: RingcastError }

/** A committed change; every node applies the same changes in the same order. */
export type Change =
  | { kind: 'event'; row: LogRow }
  | { kind: 'stream'; record: StreamRecord }
  | { kind: 'delete'; stream: string }
  | { kind: 'prune'; stream: string; throughId: number; removed: number; stats: StreamStats }
  /** Something outside the event log changed (a consumer group's state): nodes are told, in log order, through a hook. */
  | { kind: 'signal'; name: string }

/** What `append` did: an outcome per write, and the changes it committed, in log order. */
export interface Appended {
  outcomes: Outcome[]
  changes: Change[]
  /** A shared log's position after these changes: the hub applies them when its follower gets there. */
  position?: string
}

/** Where a replay may start: every stream's record and retained history, and the highest id issued. */
export interface Catalog {
  lastId: number
  streams: { record: StreamRecord; stats: StreamStats }[]
  /** A shared log's position this catalog is true at: following starts there. */
  position?: string
}

/**
 * The port the hub persists through. The log owns id assignment and dedup: `append` stores writes
 * atomically, gives each new event the next id (strictly increasing, never reused), refuses publishes
 * to closed streams and answers a key seen since `dedupSinceMs` with the original's id. Every method
 * may be asynchronous: callers never rely on a read and a write happening in one turn.
 */
export interface EventLog {
  /** Loads the catalog. `floor`: the highest id this node applied; a shared log's sequence never goes below it. */
  open(floor?: number): Promise<Catalog>
  append(writes: readonly Write[], timeMs: number, dedupSinceMs: number): Promise<Appended>
  /** Events of these streams with id > afterId, oldest first. */
  read(streams: readonly string[], afterId: number, limit: number, where: RowFilter | null): Promise<LogRow[]>
  /** The newest `limit` events of these streams (with id < `beforeId` when given), oldest first. */
  tail(streams: readonly string[], limit: number, where: RowFilter | null, beforeId?: number): Promise<LogRow[]>
  /** Id of the first event of these streams at or after `timeMs`, minus one: a position to read from (the last id when none). */
  positionAt(streams: readonly string[], timeMs: number): Promise<number>
  /** The stored events of one stream with these ids (those retention kept), in id order. */
  get(stream: string, ids: readonly number[]): Promise<LogRow[]>
  /** The highest id issued, by any writer of the log. */
  head(): Promise<number>
  close(): Promise<void>
}

/** Retention: the log deletes old events of one stream and records it as a `prune` change (null when nothing went). */
export interface Prunable {
  /** Deletes up to `batch` of the oldest events of `stream` beyond its newest `keep` or older than `beforeMs`, never an id >= `belowId`. */
  prune(stream: string, keep: number, beforeMs: number, batch: number, belowId: number): Promise<Change | null>
  /** Forgets dedup keys older than `beforeMs`, at most `batch`. */
  pruneKeys(beforeMs: number, batch: number): Promise<number>
  /** Shared logs: whether this node holds the pruning lease now (one node prunes at a time). */
  mayPrune?(): Promise<boolean>
}

/** Readiness and size, for /readyz and /metrics. */
export interface LogHealth {
  /** Whether a write would succeed now. */
  isWritable(): Promise<boolean>
  /** Bytes the log holds (0 when not known). */
  sizeBytes(): number
}

/** What a follower of a shared log is told. */
export interface FollowHandlers {
  /** The next changes in log order (everyone's, this node's included), and the position after them. */
  changes(changes: readonly Change[], position: string): void
  /** The log cannot go on from where the follower is (trimmed past it, or its data was lost): start again from `open()`. */
  lost(reason: string): void
  /** The log went out of reach or came back (reported once each way); following resumes by itself. */
  reachable(isReachable: boolean, reason: string): void
}

/** A log several servers write to: each follows every change, its own included, and applies them in order. */
export interface SharedLog {
  follow(position: string, handlers: FollowHandlers): { stop(): void }
}

/** Whether the log is shared with other servers. */
export function isShared(log: EventLog): log is EventLog & SharedLog {
  return 'follow' in log
}
