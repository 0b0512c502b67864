import { Database, type Statement } from 'bun:sqlite'
import { statSync } from 'node:fs'
import { RingcastError } from '../core/errors'
import type { Appended, Catalog, Change, EventLog, LogHealth, LogRow, Outcome, Prunable, RowFilter, StreamRecord, StreamStats, Write } from '../core/log'
import { Checkpointer, type CheckpointStats } from './checkpointer'
import { DataFileInUseError, isLocked, lockDataFile } from './data-file-lock'
import { migrate } from './migrations'

export interface SqliteLogOptions {
  /** File path, or `:memory:` for a log that lives and dies with the process. */
  path: string
  durability: 'normal' | 'full'
  /** Told when something goes wrong that the log works around (the checkpoint worker failing). */
  onProblem?: (message: string) => void
}

const ROW = 'id, stream, type, data, time AS timeMs, key, correlation_id AS correlationId'

/**
 * The event log on bun:sqlite in WAL mode, for one server (it holds a lock file beside the data file).
 * Everything is synchronous underneath: each `append` is one transaction, and the stream records are
 * mirrored in memory so a publish checks closed and ephemeral without a query. Checkpoints run on a
 * worker thread (Checkpointer).
 */
export class SqliteLog implements EventLog, Prunable, LogHealth {
  /** The open database, shared with the other stores of this file (consumer groups). */
  readonly db: Database
  private readonly statements: Statement[] = []
  private readonly insertEvent: Statement
  private readonly insertKey: Statement
  private readonly upsertStream: Statement
  private readonly setLastId: Statement
  private readonly findKey: Statement
  private readonly sinceOne: Statement
  private readonly tailOne: Statement
  private readonly appendTx: (writes: readonly Write[], timeMs: number, dedupSinceMs: number) => Appended
  private readonly records = new Map<string, StreamRecord>()
  // Events held per stream, kept as they change: counting a stream of millions after each prune would stall the loop.
  private readonly counts = new Map<string, number>()
  private last = 0
  // The highest id is in the events table unless its row is gone (ephemeral, pruned, deleted): only then is it
  // written to meta, which saves every ordinary commit a page.
  private persistedLast = 0
  private readonly path: string
  private readonly lock: Database | undefined
  private readonly checkpointer: Checkpointer | undefined

  constructor(options: SqliteLogOptions) {
    this.path = options.path
    const isFile = options.path !== ':memory:'
    this.lock = isFile ? lockDataFile(options.path) : undefined
    this.db = new Database(options.path, { create: true, strict: true })
    const synchronous = options.durability === 'full' ? 'FULL' : 'NORMAL'
    try {
      this.db.exec('PRAGMA journal_mode = WAL')
      // The checkpoint thread never makes this connection wait; an outside writer (a sqlite3 shell) might, briefly.
      this.db.exec('PRAGMA busy_timeout = 100')
      this.db.exec(`PRAGMA synchronous = ${synchronous}`)
      this.db.exec('PRAGMA temp_store = MEMORY')
      // When the WAL starts over after a burst, its file is cut back to this size rather than kept at its largest.
      this.db.exec('PRAGMA journal_size_limit = 67108864')
      migrate(this.db)
    } catch (error) {
      this.db.close()
      this.lock?.close()
      // A server of an earlier version holds the data file itself.
      if (isLocked(error)) throw new DataFileInUseError(options.path)
      throw error
    }

    const prepare = (sql: string) => {
      const statement = this.db.prepare(sql)
      this.statements.push(statement)
      return statement
    }
    this.insertEvent = prepare('INSERT INTO events (id, stream, type, data, time, key, correlation_id) VALUES ($id, $stream, $type, $data, $timeMs, $key, $correlationId)')
    this.insertKey = prepare('INSERT OR REPLACE INTO dedup_keys (stream, key, id, time) VALUES (?, ?, ?, ?)')
    this.upsertStream = prepare(
      `INSERT OR REPLACE INTO streams (name, ring_size, max_events, max_age_seconds, ephemeral, closed, pruned_through)
       VALUES ($name, $ringSize, $maxEvents, $maxAgeSeconds, $ephemeral, $closed, $prunedThrough)`,
    )
    this.setLastId = prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('last_id', ?)")
    this.findKey = prepare('SELECT id FROM dedup_keys WHERE stream = ? AND key = ? AND time >= ?')
    this.sinceOne = prepare(`SELECT ${ROW} FROM events WHERE stream = ? AND id > ? ORDER BY id LIMIT ?`)
    this.tailOne = prepare(`SELECT ${ROW} FROM events WHERE stream = ? ORDER BY id DESC LIMIT ?`)
    this.appendTx = this.db.transaction((writes: readonly Write[], timeMs: number, dedupSinceMs: number) => this.store(writes, timeMs, dedupSinceMs))
    // Last, so a constructor that throws leaves no thread behind.
    this.checkpointer = isFile ? new Checkpointer(this.db, options.path, synchronous, options.onProblem ?? (() => {})) : undefined
  }

  async open(): Promise<Catalog> {
    const meta = this.db.query("SELECT value FROM meta WHERE name = 'last_id'").get() as { value: number } | null
    const max = this.db.query('SELECT max(id) AS id FROM events').get() as { id: number | null }
    this.last = Math.max(meta?.value ?? 0, max.id ?? 0)
    this.persistedLast = meta?.value ?? 0
    const rows = this.db.query('SELECT * FROM streams').all() as Record<string, number | string | null>[]
    for (const r of rows) this.records.set(r.name as string, recordOf(r))
    const stats = this.db
      .query(
        `SELECT s.*, (SELECT time FROM events f WHERE f.id = s.firstId) AS firstTimeMs
         FROM (SELECT stream AS name, count(*) AS events, min(id) AS firstId, max(id) AS lastId FROM events GROUP BY stream) s`,
      )
      .all() as (StreamStats & { name: string })[]
    const byName = new Map(stats.map((s) => [s.name, s]))
    for (const s of stats) this.counts.set(s.name, s.events)
    const streams: Catalog['streams'] = []
    for (const record of this.records.values()) {
      const s = byName.get(record.name)
      streams.push({ record: { ...record }, stats: s ? { events: s.events, firstId: s.firstId, lastId: s.lastId, firstTimeMs: s.firstTimeMs } : EMPTY })
    }
    return { lastId: this.last, streams }
  }

  async append(writes: readonly Write[], timeMs: number, dedupSinceMs: number): Promise<Appended> {
    if (this.checkpointer?.held()) await this.writable()
    const persisted = this.persistedLast
    try {
      return this.appendTx(writes, timeMs, dedupSinceMs)
    } catch (error) {
      // Rolled back: meta holds what it held before.
      this.persistedLast = persisted
      throw error
    }
  }

  async read(streams: readonly string[], afterId: number, limit: number, where: RowFilter | null): Promise<LogRow[]> {
    if (streams.length === 0) return []
    if (streams.length === 1 && !where) return this.sinceOne.all(streams[0], afterId, limit) as LogRow[]
    const [sql, params] = whereClause(streams, where)
    return this.db.query(`SELECT ${ROW} FROM events WHERE ${sql} AND id > ? ORDER BY id LIMIT ?`).all(...params, afterId, limit) as LogRow[]
  }

  async tail(streams: readonly string[], limit: number, where: RowFilter | null, beforeId?: number): Promise<LogRow[]> {
    if (streams.length === 0) return []
    let rows: LogRow[]
    if (streams.length === 1 && !where && beforeId === undefined) rows = this.tailOne.all(streams[0], limit) as LogRow[]
    else {
      const [sql, params] = whereClause(streams, where)
      if (beforeId !== undefined) params.push(beforeId)
      rows = this.db.query(`SELECT ${ROW} FROM events WHERE ${sql}${beforeId === undefined ? '' : ' AND id < ?'} ORDER BY id DESC LIMIT ?`).all(...params, limit) as LogRow[]
    }
    return rows.reverse()
  }

  async positionAt(streams: readonly string[], timeMs: number): Promise<number> {
    if (streams.length === 0) return this.last
    const row = this.db.query('SELECT min(id) AS id FROM events WHERE stream IN (SELECT value FROM json_each(?)) AND time >= ?').get(JSON.stringify(streams), timeMs) as { id: number | null }
    return row.id === null ? this.last : row.id - 1
  }

  async get(stream: string, ids: readonly number[]): Promise<LogRow[]> {
    if (ids.length === 0) return []
    return this.db.query(`SELECT ${ROW} FROM events WHERE stream = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id`).all(stream, JSON.stringify(ids)) as LogRow[]
  }

  async head(): Promise<number> {
    return this.last
  }

  async prune(stream: string, keep: number, beforeMs: number, batch: number, belowId: number): Promise<Change | null> {
    this.persistLast(this.last)
    const over = this.db.query('SELECT id FROM events WHERE stream = ? ORDER BY id DESC LIMIT 1 OFFSET ?').get(stream, keep) as { id: number } | null
    const overId = over?.id ?? 0
    // The batch is the `batch` lowest ids that may go. Found first, it is deleted as one range of the (stream, id)
    // index, which costs about half what deleting the same rows by id and returning each does.
    const { throughId } = this.db
      .query('SELECT max(id) AS throughId FROM (SELECT id FROM events WHERE stream = ?1 AND (id <= ?2 OR time < ?3) AND id < ?4 ORDER BY id LIMIT ?5)')
      .get(stream, overId, beforeMs, belowId, batch) as { throughId: number | null }
    if (throughId === null) return null
    // Every id up to throughId is below belowId: the range's one upper bound is throughId.
    const removed = this.db.query('DELETE FROM events WHERE stream = ?1 AND (id <= ?2 OR time < ?3) AND id <= ?4').run(stream, overId, beforeMs, throughId).changes
    const record = this.records.get(stream)
    if (record) {
      record.prunedThrough = Math.max(record.prunedThrough, throughId)
      this.upsertStream.run(streamParams(record) as never)
    }
    const events = Math.max(0, (this.counts.get(stream) ?? 0) - removed)
    this.counts.set(stream, events)
    // Each end is one index lookup (min and max in one query would walk the stream's rows).
    const ends = this.db
      .query(
        `SELECT (SELECT id FROM events WHERE stream = ?1 ORDER BY id LIMIT 1) AS firstId,
                (SELECT id FROM events WHERE stream = ?1 ORDER BY id DESC LIMIT 1) AS lastId,
                (SELECT time FROM events WHERE stream = ?1 ORDER BY id LIMIT 1) AS firstTimeMs`,
      )
      .get(stream) as Omit<StreamStats, 'events'>
    return { kind: 'prune', stream, throughId, removed, stats: { events, ...ends } }
  }

  async pruneKeys(beforeMs: number, batch: number): Promise<number> {
    return this.db.query('DELETE FROM dedup_keys WHERE (stream, key) IN (SELECT stream, key FROM dedup_keys WHERE time < ? LIMIT ?)').run(beforeMs, batch).changes
  }

  async isWritable(): Promise<boolean> {
    try {
      this.setLastId.run(this.last)
      this.persistedLast = this.last
      return true
    } catch {
      return false
    }
  }

  sizeBytes(): number {
    if (this.path === ':memory:') return 0
    let total = 0
    for (const file of [this.path, `${this.path}-wal`]) {
      try {
        total += statSync(file).size
      } catch {
        // No WAL right after a checkpoint.
      }
    }
    return total
  }

  /** Checkpoint counts and times, for /metrics (nothing for a :memory: log). */
  checkpoints(): CheckpointStats | undefined {
    return this.checkpointer?.stats
  }

  /** Leaves no WAL behind; prepared statements of the other stores on `db` must be finalized first. */
  async close(): Promise<void> {
    await this.checkpointer?.stop()
    // bun:sqlite's close() leaves the connection open while a prepared statement lives.
    for (const s of this.statements) s.finalize()
    // The last connection to close checkpoints the WAL and deletes it.
    this.db.close()
    this.lock?.close()
  }

  /** Resolves when an append may go: at once, unless it has to wait for a checkpoint to catch up (Checkpointer). */
  private async writable(): Promise<void> {
    for (let held = this.checkpointer?.held(); held; held = this.checkpointer?.held()) await held
  }

  /** Writes `id` to meta unless it holds it already; in an append, it is kept only if the transaction commits. */
  private persistLast(id: number): void {
    if (id === this.persistedLast) return
    this.setLastId.run(id)
    this.persistedLast = id
  }

  /** The body of one append transaction; record changes reach the mirror only once it commits. */
  private store(writes: readonly Write[], timeMs: number, dedupSinceMs: number): Appended {
    const outcomes: Outcome[] = []
    const changes: Change[] = []
    const touched = new Map<string, StreamRecord | null>()
    const keys = new Map<string, number>()
    // Events stored per stream in this append, counted from zero again after a delete.
    const stored = new Map<string, number>()
    const emptied = new Set<string>()
    const recordOf = (name: string) => (touched.has(name) ? touched.get(name) : this.records.get(name)) ?? undefined
    const save = (record: StreamRecord) => {
      touched.set(record.name, record)
      this.upsertStream.run(streamParams(record) as never)
      changes.push({ kind: 'stream', record: { ...record } })
    }
    let id = this.last
    let isLastOnlyInMeta = false
    for (const w of writes) {
      if (w.kind === 'delete') {
        isLastOnlyInMeta = true
        this.db.query('DELETE FROM events WHERE stream = ?').run(w.stream)
        this.db.query('DELETE FROM dedup_keys WHERE stream = ?').run(w.stream)
        this.db.query('DELETE FROM streams WHERE name = ?').run(w.stream)
        touched.set(w.stream, null)
        stored.delete(w.stream)
        emptied.add(w.stream)
        changes.push({ kind: 'delete', stream: w.stream })
        outcomes.push({ kind: 'done' })
        continue
      }
      const known = recordOf(w.stream)
      let record = known ? { ...known } : w.create ? { ...w.create } : undefined
      if (!record) {
        outcomes.push({ kind: 'refused', error: new RingcastError('not_found', `No stream "${w.stream}".`) })
        continue
      }
      if (w.kind === 'configure') {
        record = { ...record, ...definedOf(w.patch) }
        save(record)
        outcomes.push({ kind: 'done' })
        continue
      }
      if (record.closed) {
        outcomes.push(w.kind === 'close' ? { kind: 'done' } : { kind: 'refused', error: closedError(w.stream) })
        continue
      }
      if (w.kind === 'close') {
        save({ ...record, closed: true })
        outcomes.push({ kind: 'done' })
        continue
      }
      // A new stream is announced before its first event, so every node knows whether it is ephemeral.
      if (!known) save(record)
      const items: { id: number; duplicate: boolean }[] = []
      for (const item of w.items) {
        if (item.key !== undefined) {
          const keyOf = `${w.stream}\u0000${item.key}`
          const original = keys.get(keyOf) ?? (this.findKey.get(w.stream, item.key, dedupSinceMs) as { id: number } | null)?.id
          if (original !== undefined) {
            items.push({ id: original, duplicate: true })
            continue
          }
          keys.set(keyOf, id + 1)
          this.insertKey.run(w.stream, item.key, id + 1, timeMs)
        }
        id++
        const row: LogRow = { id, stream: w.stream, type: item.type, data: item.data, timeMs, key: item.key ?? null, correlationId: item.correlationId ?? null }
        if (!record.ephemeral) {
          this.insertEvent.run(row as never)
          stored.set(w.stream, (stored.get(w.stream) ?? 0) + 1)
        } else isLastOnlyInMeta = true
        changes.push({ kind: 'event', row })
        items.push({ id, duplicate: false })
        if (item.terminal) {
          record = { ...record, closed: true }
          save(record)
          break
        }
      }
      outcomes.push({ kind: 'published', items })
    }
    // A later stored event takes over from meta, so the id it was given would be written in vain.
    if (isLastOnlyInMeta) this.persistLast(id)
    // Reached only when the transaction commits (a throw rolls back and skips this).
    this.last = id
    for (const [name, record] of touched) {
      if (record) this.records.set(name, record)
      else this.records.delete(name)
    }
    for (const name of emptied) this.counts.delete(name)
    for (const [name, n] of stored) this.counts.set(name, (this.counts.get(name) ?? 0) + n)
    return { outcomes, changes }
  }
}

const EMPTY: StreamStats = { events: 0, firstId: null, lastId: null, firstTimeMs: null }

function closedError(stream: string): RingcastError {
  return new RingcastError('stream_closed', `Stream "${stream}" is closed.`, 'A closed stream takes no more events; publish to a new stream.')
}

/** The fields of a patch that were given. */
function definedOf<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>
}

function recordOf(r: Record<string, number | string | null>): StreamRecord {
  return {
    name: r.name as string,
    ringSize: r.ring_size as number | null,
    maxEvents: r.max_events as number | null,
    maxAgeSeconds: r.max_age_seconds as number | null,
    ephemeral: r.ephemeral === 1,
    closed: r.closed === 1,
    prunedThrough: r.pruned_through as number,
  }
}

function streamParams(r: StreamRecord) {
  return {
    name: r.name,
    ringSize: r.ringSize,
    maxEvents: r.maxEvents,
    maxAgeSeconds: r.maxAgeSeconds,
    ephemeral: r.ephemeral ? 1 : 0,
    closed: r.closed ? 1 : 0,
    prunedThrough: r.prunedThrough,
  }
}

type Param = string | number

function whereClause(streams: readonly string[], where: RowFilter | null): [string, Param[]] {
  let sql = streams.length === 1 ? 'stream = ?' : 'stream IN (SELECT value FROM json_each(?))'
  const params: Param[] = [streams.length === 1 ? streams[0] : JSON.stringify(streams)]
  if (where?.types) {
    sql += ' AND type IN (SELECT value FROM json_each(?))'
    params.push(JSON.stringify(where.types))
  }
  if (where?.correlationId != null) {
    sql += ' AND correlation_id = ?'
    params.push(where.correlationId)
  }
  return [sql, params]
}
