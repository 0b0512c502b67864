import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Write } from '../../src/core/log'
import { SqliteLog } from '../../src/store/sqlite-log'
import { until } from '../helpers/hub-fixture'
import { items, publish } from './event-log.case'

let dir: string | undefined
let log: SqliteLog | undefined
const problems: string[] = []
afterEach(async () => {
  expect(problems.splice(0)).toEqual([])
  await log?.close()
  log = undefined
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function openLog(): Promise<{ log: SqliteLog; file: string }> {
  dir = mkdtempSync(join(tmpdir(), 'ringcast-ckpt-'))
  const file = join(dir, 'ringcast.db')
  log = new SqliteLog({ path: file, durability: 'normal', onProblem: (message) => problems.push(message) })
  await log.open()
  return { log, file }
}

const batch = (n: number, bytes: number): Write => publish('c.1', items(...Array.from({ length: n }, (_, i) => `${i}`.padEnd(bytes, 'x'))))
const turn = () => new Promise((resolve) => setImmediate(resolve))

test('the worker thread copies committed events into the data file while the log stays open', async () => {
  const { log, file } = await openLog()
  const emptySize = statSync(file).size
  await log.append([batch(200, 200)], 1000, 0)
  expect(statSync(`${file}-wal`).size).toBeGreaterThan(40_000)
  await until(() => log.checkpoints()!.checkpoints >= 1, 5000, 'a checkpoint')
  const stats = log.checkpoints()!
  expect(stats.walFrames).toBeGreaterThan(10)
  expect(stats.seconds).toBeGreaterThan(0)
  expect(stats.holds).toBe(0)
  // The pages are in the database file itself now, not only in the WAL.
  expect(statSync(file).size).toBeGreaterThan(emptySize + 40_000)
  expect((await log.read(['c.1'], 0, 1000, null)).length).toBe(200)
})

/** Appends between two turns of the event loop until a checkpoint reports a shorter WAL than before: it started over. */
async function appendUntilWalStartsOver(log: SqliteLog): Promise<{ written: number; largest: number }> {
  let written = 0
  let largest = 0
  for (const deadline = Date.now() + 20_000; ; ) {
    if (Date.now() > deadline) throw new Error(`the WAL did not start over: ${JSON.stringify(log.checkpoints())}`)
    await log.append([batch(20, 1000)], Date.now(), 0)
    written += 20
    await turn()
    const { walFrames, holds } = log.checkpoints()!
    // A checkpoint reports the WAL's length: it only ever shrinks when the WAL started over.
    if (holds >= 1 && walFrames < largest) return { written, largest }
    largest = Math.max(largest, walFrames)
  }
}

test('under appends that never pause, checkpoints chase them, appends wait briefly, and the WAL starts over', async () => {
  const { log } = await openLog()
  const { written, largest } = await appendUntilWalStartsOver(log)
  expect(largest).toBeGreaterThanOrEqual(4096)
  expect((await log.read(['c.1'], 0, 1_000_000, null)).length).toBe(written)
}, 30_000)

test('writes that do not wait for a hold (consumer groups, retention) landing during every one cannot keep the WAL from starting over', async () => {
  const { log } = await openLog()
  log.db.exec('CREATE TABLE other_writes (n INTEGER)')
  const insert = log.db.prepare('INSERT INTO other_writes (n) VALUES (?)')
  let n = 0
  const writer = setInterval(() => insert.run(++n), 1)
  try {
    const { written } = await appendUntilWalStartsOver(log)
    expect((await log.read(['c.1'], 0, 1_000_000, null)).length).toBe(written)
  } finally {
    clearInterval(writer)
    insert.finalize()
  }
  expect(n).toBeGreaterThan(10)
}, 30_000)
