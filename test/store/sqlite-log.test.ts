import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LogRow, StreamRecord } from '../../src/core/log'
import { DataFileInUseError, SqliteLog } from '../../src/store/sqlite-log'

let dir: string
const open: SqliteLog[] = []
function openLog(file = join(dir, 'ringcast.db')): SqliteLog {
  const log = new SqliteLog({ path: file, durability: 'normal' })
  open.push(log)
  return log
}
function closeLog(log: SqliteLog): void {
  log.close()
  open.splice(open.indexOf(log), 1)
}
function reopen(log: SqliteLog): SqliteLog {
  closeLog(log)
  return openLog()
}

afterEach(() => {
  for (const log of open.splice(0)) log.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'ringcast-log-')))

const row = (id: number, stream: string, timeMs = 1_000, extra: Partial<LogRow> = {}): LogRow => ({ id, stream, type: 'message', data: JSON.stringify({ id }), timeMs, key: null, correlationId: null, ...extra })
const record = (name: string, extra: Partial<StreamRecord> = {}): StreamRecord => ({ name, ringSize: null, maxEvents: null, maxAgeSeconds: null, ephemeral: false, closed: false, prunedThrough: 0, ...extra })
const ids = (rows: readonly LogRow[]) => rows.map((r) => r.id)
/** Commits rows 1..n to `stream` (or the streams given per row), lastId = highest id. */
function commitRows(log: SqliteLog, rows: LogRow[], lastId = Math.max(...rows.map((r) => r.id))): void {
  log.commit({ rows, keys: [], streams: [], lastId })
}

describe('restart = reopen', () => {
  test('rows, stream records, stats and last_id survive', () => {
    fresh()
    let log = openLog()
    expect(log.lastId()).toBe(0)
    log.commit({
      rows: [row(1, 'a', 1000, { key: 'k', correlationId: 'c', type: 't' }), row(2, 'b', 2000), row(3, 'a', 3000)],
      keys: [{ stream: 'a', key: 'k', id: 1, timeMs: 1000 }],
      streams: [record('a', { ringSize: 8, maxEvents: 50, maxAgeSeconds: 60, closed: true, prunedThrough: 0 }), record('e', { ephemeral: true })],
      // Ids issued to ephemeral events go past the last stored row.
      lastId: 7,
    })
    log = reopen(log)
    expect(log.lastId()).toBe(7)
    expect(log.get(1)).toEqual(row(1, 'a', 1000, { key: 'k', correlationId: 'c', type: 't' }))
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([1, 3])
    expect(log.streams().sort((x, y) => x.name.localeCompare(y.name))).toEqual([record('a', { ringSize: 8, maxEvents: 50, maxAgeSeconds: 60, closed: true }), record('e', { ephemeral: true })])
    expect(log.stats().sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'a', events: 2, firstId: 1, lastId: 3, firstTimeMs: 1000 },
      { name: 'b', events: 1, firstId: 2, lastId: 2, firstTimeMs: 2000 },
    ])
    expect(log.findKey('a', 'k', 0)).toBe(1)
  })

  test('last_id never goes back, even when the newest rows were deleted', () => {
    fresh()
    let log = openLog()
    commitRows(log, [row(1, 'a'), row(2, 'a'), row(3, 'a')])
    log.deleteStream('a')
    log = reopen(log)
    expect(log.lastId()).toBe(3)
    expect(log.get(3)).toBeUndefined()
  })

  test('an empty file opens at 0 and reopens cleanly (migrations run once)', () => {
    fresh()
    let log = openLog()
    log = reopen(log)
    expect(log.lastId()).toBe(0)
    expect(log.streams()).toEqual([])
  })

  test('a failed commit stores nothing and keeps lastId', () => {
    fresh()
    const log = openLog()
    commitRows(log, [row(1, 'a')])
    // Id 1 again violates the primary key: the whole transaction must roll back.
    expect(() => log.commit({ rows: [row(2, 'a'), row(1, 'a')], keys: [], streams: [record('z')], lastId: 2 })).toThrow()
    expect(log.lastId()).toBe(1)
    expect(log.get(2)).toBeUndefined()
    expect(log.streams()).toEqual([])
    const again = reopen(log)
    expect(again.lastId()).toBe(1)
  })
})

describe('one server per file', () => {
  test('a second SqliteLog on the same file throws DataFileInUseError while the first is open, and opens once it closed', () => {
    fresh()
    const first = openLog()
    commitRows(first, [row(1, 'a')])
    let error: unknown
    try {
      openLog()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(DataFileInUseError)
    expect((error as DataFileInUseError).path).toBe(join(dir, 'ringcast.db'))
    expect((error as Error).message).toContain('in use')
    // The first is unharmed by the attempt.
    commitRows(first, [row(2, 'a')])
    expect(first.isWritable()).toBe(true)
    closeLog(first)
    const second = openLog()
    expect(ids(second.since(['a'], 0, 10, null))).toEqual([1, 2])
  })

  test('a :memory: log holds no lock and reports 0 bytes', () => {
    const a = new SqliteLog({ path: ':memory:', durability: 'full' })
    const b = new SqliteLog({ path: ':memory:', durability: 'full' })
    a.commit({ rows: [row(1, 'a')], keys: [], streams: [], lastId: 1 })
    expect(b.lastId()).toBe(0)
    expect(a.sizeBytes()).toBe(0)
    a.close()
    b.close()
  })
})

describe('reads', () => {
  test('since, tail and positionAt over one and several streams, with filters', () => {
    fresh()
    const log = openLog()
    commitRows(log, [
      row(1, 'a', 100, { type: 'x' }),
      row(2, 'b', 200, { type: 'y', correlationId: 'w' }),
      row(3, 'a', 300, { type: 'y', correlationId: 'w' }),
      row(4, 'c', 400),
      row(5, 'a', 500, { type: 'x' }),
    ])
    expect(ids(log.since(['a'], 1, 10, null))).toEqual([3, 5])
    expect(ids(log.since(['a', 'b'], 0, 2, null))).toEqual([1, 2])
    expect(ids(log.since(['a', 'b'], 0, 10, { types: ['y'], correlationId: null }))).toEqual([2, 3])
    expect(ids(log.since(['a'], 0, 10, { types: null, correlationId: 'w' }))).toEqual([3])
    expect(log.since([], 0, 10, null)).toEqual([])
    expect(ids(log.tail(['a'], 2, null))).toEqual([3, 5])
    expect(ids(log.tail(['a', 'c'], 2, null))).toEqual([4, 5])
    expect(ids(log.tail(['a'], 10, { types: ['x'], correlationId: null }))).toEqual([1, 5])
    expect(log.positionAt(['a'], 250)).toBe(2)
    expect(log.positionAt(['a', 'b'], 150)).toBe(1)
    expect(log.positionAt(['a'], 10_000)).toBe(5)
    expect(log.positionAt([], 0)).toBe(5)
  })

  test('findKey honours the time bound', () => {
    fresh()
    const log = openLog()
    log.commit({ rows: [row(1, 'a', 1000, { key: 'k' })], keys: [{ stream: 'a', key: 'k', id: 1, timeMs: 1000 }], streams: [], lastId: 1 })
    expect(log.findKey('a', 'k', 1000)).toBe(1)
    expect(log.findKey('a', 'k', 1001)).toBeUndefined()
    expect(log.findKey('b', 'k', 0)).toBeUndefined()
  })
})

describe('prune', () => {
  test('keeps the newest N, deleting the oldest in batches', () => {
    fresh()
    const log = openLog()
    commitRows(log, Array.from({ length: 10 }, (_, i) => row(i + 1, i % 2 === 0 ? 'a' : 'b')))
    // a holds 1,3,5,7,9: keep 2 → 1,3,5 go, two per batch.
    expect(log.prune('a', 2, 0, 2)).toEqual({ deleted: 2, maxId: 3 })
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([5, 7, 9])
    expect(log.prune('a', 2, 0, 2)).toEqual({ deleted: 1, maxId: 5 })
    expect(log.prune('a', 2, 0, 2)).toEqual({ deleted: 0, maxId: 0 })
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([7, 9])
    // Other streams are untouched.
    expect(ids(log.since(['b'], 0, 10, null))).toEqual([2, 4, 6, 8, 10])
  })

  test('removes events older than the age bound, oldest first, in batches', () => {
    fresh()
    const log = openLog()
    commitRows(log, [row(1, 'a', 100), row(2, 'a', 200), row(3, 'a', 300), row(4, 'a', 400), row(5, 'b', 50)])
    expect(log.prune('a', 1000, 350, 2)).toEqual({ deleted: 2, maxId: 2 })
    expect(log.prune('a', 1000, 350, 2)).toEqual({ deleted: 1, maxId: 3 })
    expect(log.prune('a', 1000, 350, 2)).toEqual({ deleted: 0, maxId: 0 })
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([4])
    expect(ids(log.since(['b'], 0, 10, null))).toEqual([5])
  })

  test('both bounds at once: whichever removes more wins', () => {
    fresh()
    const log = openLog()
    commitRows(log, [row(1, 'a', 100), row(2, 'a', 200), row(3, 'a', 300), row(4, 'a', 400)])
    expect(log.prune('a', 3, 250, 100).deleted).toBe(2)
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([3, 4])
  })

  test('never deletes an id at or above belowId (held by a consumer group)', () => {
    fresh()
    const log = openLog()
    commitRows(log, [row(1, 'a', 100), row(2, 'a', 200), row(3, 'a', 300), row(4, 'a', 400), row(5, 'a', 500)])
    expect(log.prune('a', 1, 10_000, 100, 3)).toEqual({ deleted: 2, maxId: 2 })
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([3, 4, 5])
    expect(log.prune('a', 1, 10_000, 100, 3)).toEqual({ deleted: 0, maxId: 0 })
  })

  test('pruned rows stay gone after a reopen', () => {
    fresh()
    let log = openLog()
    commitRows(log, [row(1, 'a'), row(2, 'a'), row(3, 'a')])
    log.prune('a', 1, 0, 100)
    log = reopen(log)
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([3])
    expect(log.lastId()).toBe(3)
  })

  test('pruneKeys forgets keys older than the bound, at most a batch at a time', () => {
    fresh()
    const log = openLog()
    const keys = [1, 2, 3, 4].map((i) => ({ stream: 'a', key: `k${i}`, id: i, timeMs: i * 100 }))
    log.commit({ rows: [1, 2, 3, 4].map((i) => row(i, 'a', i * 100)), keys, streams: [], lastId: 4 })
    expect(log.pruneKeys(350, 2)).toBe(2)
    expect(log.pruneKeys(350, 2)).toBe(1)
    expect(log.pruneKeys(350, 2)).toBe(0)
    expect(log.findKey('a', 'k3', 0)).toBeUndefined()
    expect(log.findKey('a', 'k4', 0)).toBe(4)
    // The events themselves are untouched.
    expect(ids(log.since(['a'], 0, 10, null))).toEqual([1, 2, 3, 4])
  })
})

describe('housekeeping', () => {
  test('deleteStream removes its rows, keys and record only', () => {
    fresh()
    const log = openLog()
    log.commit({
      rows: [row(1, 'a', 1, { key: 'k' }), row(2, 'b', 1, { key: 'k' })],
      keys: [
        { stream: 'a', key: 'k', id: 1, timeMs: 1 },
        { stream: 'b', key: 'k', id: 2, timeMs: 1 },
      ],
      streams: [record('a'), record('b')],
      lastId: 2,
    })
    log.deleteStream('a')
    expect(log.since(['a'], 0, 10, null)).toEqual([])
    expect(log.findKey('a', 'k', 0)).toBeUndefined()
    expect(log.findKey('b', 'k', 0)).toBe(2)
    expect(log.streams().map((s) => s.name)).toEqual(['b'])
  })

  test('sizeBytes counts the file and WAL; checkpoint keeps the data', () => {
    fresh()
    let log = openLog()
    commitRows(log, Array.from({ length: 50 }, (_, i) => row(i + 1, 'a', 1, { data: JSON.stringify('x'.repeat(200)) })))
    expect(log.sizeBytes()).toBeGreaterThan(10_000)
    log.checkpoint()
    log = reopen(log)
    expect(log.since(['a'], 0, 100, null).length).toBe(50)
  })
})
