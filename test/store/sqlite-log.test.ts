import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { StoredItem } from '../../src/core/log'
import { DataFileInUseError } from '../../src/store/data-file-lock'
import { SqliteLog } from '../../src/store/sqlite-log'
import { eventLogCases, items, publish, record, type TestLog } from './event-log.case'

const dirs: string[] = []
const open: SqliteLog[] = []
const fileOf = new Map<TestLog, string>()

function openLog(file: string): SqliteLog {
  const log = new SqliteLog({ path: file, durability: 'normal' })
  open.push(log)
  fileOf.set(log, file)
  return log
}

async function closeAll(): Promise<void> {
  for (const log of open.splice(0)) await log.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A temp folder, removed after the test. */
function freshDir(prefix = 'ringcast-log-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

function freshFile(): string {
  return join(freshDir(), 'ringcast.db')
}

eventLogCases('SqliteLog', {
  create: async () => openLog(freshFile()),
  reopen: async (log) => {
    await log.close()
    open.splice(open.indexOf(log as SqliteLog), 1)
    return openLog(fileOf.get(log)!)
  },
  cleanup: closeAll,
})


describe('SqliteLog', () => {
  afterEach(closeAll)

  test('a failed append stores nothing and keeps its ids and records', async () => {
    const log = openLog(freshFile())
    await log.open()
    await log.append([publish('a.1', items(1))], 1000, 0)
    // A trigger fails the second event's insert, halfway through the transaction.
    log.db.exec('CREATE TRIGGER fail BEFORE INSERT ON events WHEN NEW.id = 3 BEGIN SELECT RAISE(ABORT, \'disk full\'); END')
    await expect(log.append([publish('a.1', items(2, 3)), { kind: 'close', stream: 'b.1', create: record('b.1') }], 2000, 0)).rejects.toThrow('disk full')
    log.db.exec('DROP TRIGGER fail')
    expect(await log.head()).toBe(1)
    expect((await log.read(['a.1'], 0, 10, null)).map((r) => r.id)).toEqual([1])
    const again = await log.append([{ kind: 'close', stream: 'b.1', create: record('b.1') }, publish('a.1', items(4))], 3000, 0)
    // b.1 was never created by the failed append, and a.1 goes on from id 2.
    expect(again.changes.map((c) => (c.kind === 'event' ? c.row.id : c.kind))).toEqual(['stream', 2])
  })

  test('pruneKeys forgets keys older than its bound, whatever the dedup bound of a later append', async () => {
    const log = openLog(freshFile())
    await log.open()
    const keyed = (d: number): StoredItem => ({ type: 'message', data: String(d), key: 'k' })
    await log.append([publish('k.1', [keyed(1)])], 1000, 0)
    expect(await log.pruneKeys(999, 100)).toBe(0)
    expect((await log.append([publish('k.1', [keyed(2)])], 2000, 0)).outcomes[0]).toEqual({ kind: 'published', items: [{ id: 1, duplicate: true }] })
    expect(await log.pruneKeys(1001, 100)).toBe(1)
    expect((await log.append([publish('k.1', [keyed(3)])], 3000, 0)).outcomes[0]).toEqual({ kind: 'published', items: [{ id: 2, duplicate: false }] })
  })

  test('the last id never goes back, even when the newest rows were deleted', async () => {
    const file = freshFile()
    let log = openLog(file)
    await log.open()
    await log.append([publish('a.1', items(1, 2, 3))], 1000, 0)
    await log.append([{ kind: 'delete', stream: 'a.1' }], 1000, 0)
    await log.close()
    open.splice(open.indexOf(log), 1)
    log = openLog(file)
    expect((await log.open()).lastId).toBe(3)
  })

  // The batch is deleted as one id range: after the clock went back, a newer event inside that range must stay.
  test('an age prune after the clock went back takes the oldest matching events only, not the newer ones between', async () => {
    const log = openLog(freshFile())
    await log.open()
    await log.append([publish('k.1', items(1))], 1000, 0)
    await log.append([publish('k.1', items(2))], 20_000, 0)
    await log.append([publish('k.1', items(3, 4))], 1000, 0)
    await log.append([publish('k.1', items(5))], 1000, 0)
    expect(await log.prune('k.1', 100, 5000, 2, Number.MAX_SAFE_INTEGER)).toMatchObject({ throughId: 3, removed: 2, stats: { events: 3, firstId: 2 } })
    expect((await log.read(['k.1'], 0, 10, null)).map((r) => r.id)).toEqual([2, 4, 5])
  })

  test('the last id never goes back when retention pruned every row, nor after ephemeral events and a failed append', async () => {
    const file = freshFile()
    let log = openLog(file)
    await log.open()
    await log.append([publish('a.1', items(1, 2, 3))], 1000, 0)
    const meta = () => (log.db.query("SELECT value FROM meta WHERE name = 'last_id'").get() as { value: number } | null)?.value
    // Stored events hold the last id themselves: an ordinary commit writes no meta page.
    expect(meta()).toBeUndefined()
    expect(await log.prune('a.1', 0, 2000, 100, Number.MAX_SAFE_INTEGER)).toMatchObject({ removed: 3 })
    const reopen = async () => {
      await log.close()
      open.splice(open.indexOf(log), 1)
      log = openLog(file)
      return (await log.open()).lastId
    }
    expect(await reopen()).toBe(3)
    const eph = { name: 'e.1', ringSize: null, maxEvents: null, maxAgeSeconds: null, ephemeral: true, closed: false, prunedThrough: 0 }
    await log.append([{ kind: 'publish', stream: 'e.1', items: items(4, 5), create: eph }], 3000, 0)
    // The next append fails after its ephemeral events: meta must keep 5, not a rolled-back 7.
    log.db.exec("CREATE TRIGGER fail BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    await expect(log.append([{ kind: 'publish', stream: 'e.1', items: items(6, 7) }, publish('a.1', items(8))], 4000, 0)).rejects.toThrow('disk full')
    log.db.exec('DROP TRIGGER fail')
    expect(await reopen()).toBe(5)
  })

  test('a second SqliteLog on the same file throws DataFileInUseError while the first is open, and opens once it closed', async () => {
    const file = freshFile()
    const first = openLog(file)
    await first.open()
    expect(() => new SqliteLog({ path: file, durability: 'normal' })).toThrow(DataFileInUseError)
    await first.close()
    open.splice(open.indexOf(first), 1)
    const second = openLog(file)
    expect((await second.open()).lastId).toBe(0)
  })

  test('the guard holds for the file, not the name: a second SqliteLog through a symlink (to the file or to its folder) is refused', async () => {
    const file = freshFile()
    const first = openLog(file)
    await first.open()
    const links = freshDir('ringcast-links-')
    symlinkSync(file, join(links, 'other-name.db'))
    symlinkSync(dirname(file), join(links, 'folder'))
    expect(() => new SqliteLog({ path: join(links, 'other-name.db'), durability: 'normal' })).toThrow(DataFileInUseError)
    expect(() => new SqliteLog({ path: join(links, 'folder', basename(file)), durability: 'normal' })).toThrow(DataFileInUseError)
  })

  test('a server started through a dangling symlink locks the file SQLite creates behind it', async () => {
    const file = freshFile()
    const links = freshDir('ringcast-links-')
    symlinkSync(file, join(links, 'ahead.db'))
    const first = openLog(join(links, 'ahead.db'))
    await first.open()
    expect(existsSync(file)).toBe(true)
    expect(() => new SqliteLog({ path: file, durability: 'normal' })).toThrow(DataFileInUseError)
  })

  test('a :memory: log holds no lock and reports 0 bytes', async () => {
    const log = openLog(':memory:')
    await log.open()
    await log.append([publish('m.1', items(1))], 1000, 0)
    expect(log.sizeBytes()).toBe(0)
    expect(await log.isWritable()).toBe(true)
  })

  test('sizeBytes counts the file and WAL; close checkpoints all of it and leaves no WAL or shared memory behind', async () => {
    const file = freshFile()
    const log = openLog(file)
    await log.open()
    await log.append([publish('s.1', items(...Array.from({ length: 200 }, (_, i) => 'x'.repeat(100) + i)))], 1000, 0)
    expect(log.sizeBytes()).toBeGreaterThan(20_000)
    await log.close()
    open.splice(open.indexOf(log), 1)
    expect(existsSync(`${file}-wal`)).toBe(false)
    expect(existsSync(`${file}-shm`)).toBe(false)
    expect(statSync(file).size).toBeGreaterThan(20_000)
    const again = openLog(file)
    await again.open()
    expect((await again.read(['s.1'], 0, 1000, null)).length).toBe(200)
  })
})
