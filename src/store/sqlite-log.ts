import { Database, type Statement } from 'bun:sqlite'
import { statSync } from 'node:fs'
import type { Commit, Log, LogRow, RowFilter, StreamRecord, StreamStats } from '../core/log'
import { migrate } from './migrations'

export interface SqliteLogOptions {
  /** File path, or `:memory:` for a log that lives and dies with the process. */
  path: string
  durability: 'normal' | 'full'
}

const ROW = 'id, stream, type, data, time AS timeMs, key, correlation_id AS correlationId'

/** The Log on bun:sqlite in WAL mode. Holds an exclusive lock: one server per file. */
export class SqliteLog implements Log {
  /** The open database, shared with the other stores of this file (consumer groups). */
  readonly db: Database
  private readonly insertEvent: Statement
  private readonly insertKey: Statement
  private readonly upsertStream: Statement
  private readonly setLastId: Statement
  private readonly findKeyQuery: Statement
  private readonly getQuery: Statement
  private readonly sinceOne: Statement
  private readonly tailOne: Statement
  private readonly commitTx: (commit: Commit) => void
  private last: number
  private readonly path: string

  constructor(options: SqliteLogOptions) {
    this.path = options.path
    this.db = new Database(options.path, { create: true, strict: true })
    try {
      // Exclusive locking keeps a second server off this file; the OS drops the lock if we are killed.
      this.db.exec('PRAGMA locking_mode = EXCLUSIVE')
      this.db.exec('PRAGMA journal_mode = WAL')
      this.db.exec('BEGIN EXCLUSIVE; COMMIT')
    } catch (error) {
      this.db.close()
      if (String(error).includes('locked')) throw new DataFileInUseError(options.path)
      throw error
    }
    this.db.exec(`PRAGMA synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`)
    this.db.exec('PRAGMA temp_store = MEMORY')
    migrate(this.db)

    this.insertEvent = this.db.prepare(
      'INSERT INTO events (id, stream, type, data, time, key, correlation_id) VALUES ($id, $stream, $type, $data, $timeMs, $key, $correlationId)',
    )
    this.insertKey = this.db.prepare('INSERT OR REPLACE INTO dedup_keys (stream, key, id, time) VALUES ($stream, $key, $id, $timeMs)')
    this.upsertStream = this.db.prepare(
      `INSERT OR REPLACE INTO streams (name, ring_size, max_events, max_age_seconds, ephemeral, closed, pruned_through)
       VALUES ($name, $ringSize, $maxEvents, $maxAgeSeconds, $ephemeral, $closed, $prunedThrough)`,
    )
    this.setLastId = this.db.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('last_id', ?)")
    this.findKeyQuery = this.db.prepare('SELECT id FROM dedup_keys WHERE stream = ? AND key = ? AND time >= ?')
    this.getQuery = this.db.prepare(`SELECT ${ROW} FROM events WHERE id = ?`)
    this.sinceOne = this.db.prepare(`SELECT ${ROW} FROM events WHERE stream = ? AND id > ? ORDER BY id LIMIT ?`)
    this.tailOne = this.db.prepare(`SELECT ${ROW} FROM events WHERE stream = ? ORDER BY id DESC LIMIT ?`)

    this.commitTx = this.db.transaction((commit: Commit) => {
      for (const row of commit.rows) this.insertEvent.run(row as never)
      for (const key of commit.keys) this.insertKey.run(key as never)
      for (const stream of commit.streams) this.upsertStream.run(streamParams(stream) as never)
      this.setLastId.run(commit.lastId)
    })

    const meta = this.db.query("SELECT value FROM meta WHERE name = 'last_id'").get() as { value: number } | null
    const max = this.db.query('SELECT max(id) AS id FROM events').get() as { id: number | null }
    this.last = Math.max(meta?.value ?? 0, max.id ?? 0)
  }

  lastId(): number {
    return this.last
  }

  commit(commit: Commit): void {
    this.commitTx(commit)
    this.last = commit.lastId
  }

  streams(): StreamRecord[] {
    const rows = this.db.query('SELECT * FROM streams').all() as Record<string, number | string | null>[]
    return rows.map((r) => ({
      name: r.name as string,
      ringSize: r.ring_size as number | null,
      maxEvents: r.max_events as number | null,
      maxAgeSeconds: r.max_age_seconds as number | null,
      ephemeral: r.ephemeral === 1,
      closed: r.closed === 1,
      prunedThrough: r.pruned_through as number,
    }))
  }

  stats(): StreamStats[] {
    return this.db
      .query(
        `SELECT s.*, (SELECT time FROM events f WHERE f.id = s.firstId) AS firstTimeMs
         FROM (SELECT stream AS name, count(*) AS events, min(id) AS firstId, max(id) AS lastId FROM events GROUP BY stream) s`,
      )
      .all() as StreamStats[]
  }

  saveStream(record: StreamRecord): void {
    this.upsertStream.run(streamParams(record) as never)
  }

  deleteStream(name: string): void {
    this.db.transaction(() => {
      this.db.query('DELETE FROM events WHERE stream = ?').run(name)
      this.db.query('DELETE FROM dedup_keys WHERE stream = ?').run(name)
      this.db.query('DELETE FROM streams WHERE name = ?').run(name)
    })()
  }

  since(streams: readonly string[], afterId: number, limit: number, where: RowFilter | null): LogRow[] {
    if (streams.length === 0) return []
    if (streams.length === 1 && !where) return this.sinceOne.all(streams[0], afterId, limit) as LogRow[]
    const [sql, params] = whereClause(streams, where)
    return this.db.query(`SELECT ${ROW} FROM events WHERE ${sql} AND id > ? ORDER BY id LIMIT ?`).all(...params, afterId, limit) as LogRow[]
  }

  tail(streams: readonly string[], limit: number, where: RowFilter | null): LogRow[] {
    if (streams.length === 0) return []
    let rows: LogRow[]
    if (streams.length === 1 && !where) rows = this.tailOne.all(streams[0], limit) as LogRow[]
    else {
      const [sql, params] = whereClause(streams, where)
      rows = this.db.query(`SELECT ${ROW} FROM events WHERE ${sql} ORDER BY id DESC LIMIT ?`).all(...params, limit) as LogRow[]
    }
    return rows.reverse()
  }

  positionAt(streams: readonly string[], timeMs: number): number {
    if (streams.length === 0) return this.last
    const row = this.db
      .query('SELECT min(id) AS id FROM events WHERE stream IN (SELECT value FROM json_each(?)) AND time >= ?')
      .get(JSON.stringify(streams), timeMs) as { id: number | null }
    return row.id === null ? this.last : row.id - 1
  }

  findKey(stream: string, key: string, sinceMs: number): number | undefined {
    const row = this.findKeyQuery.get(stream, key, sinceMs) as { id: number } | null
    return row?.id
  }

  get(id: number): LogRow | undefined {
    return (this.getQuery.get(id) as LogRow | null) ?? undefined
  }

  prune(stream: string, keep: number, beforeMs: number, batch: number, belowId = Number.MAX_SAFE_INTEGER): { deleted: number; maxId: number } {
    const over = this.db.query('SELECT id FROM events WHERE stream = ? ORDER BY id DESC LIMIT 1 OFFSET ?').get(stream, keep) as { id: number } | null
    const deleted = this.db
      .query(
        `DELETE FROM events WHERE id IN (
           SELECT id FROM events WHERE stream = ? AND (id <= ? OR time < ?) AND id < ? ORDER BY id LIMIT ?
         ) RETURNING id`,
      )
      .all(stream, over?.id ?? 0, beforeMs, belowId, batch) as { id: number }[]
    let maxId = 0
    for (const row of deleted) if (row.id > maxId) maxId = row.id
    return { deleted: deleted.length, maxId }
  }

  pruneKeys(beforeMs: number, batch: number): number {
    return this.db
      .query('DELETE FROM dedup_keys WHERE (stream, key) IN (SELECT stream, key FROM dedup_keys WHERE time < ? LIMIT ?)')
      .run(beforeMs, batch).changes
  }

  isWritable(): boolean {
    try {
      this.setLastId.run(this.last)
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

  checkpoint(): void {
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  }

  close(): void {
    // bun:sqlite's close() leaves the connection (and its exclusive lock) open while a prepared statement lives.
    for (const s of [this.insertEvent, this.insertKey, this.upsertStream, this.setLastId, this.findKeyQuery, this.getQuery, this.sinceOne, this.tailOne]) s.finalize()
    this.db.close()
  }
}

/** Thrown when another process holds the data file. */
export class DataFileInUseError extends Error {
  constructor(readonly path: string) {
    super(`data file ${path} is in use by another process (is another ringcast running on it?)`)
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
