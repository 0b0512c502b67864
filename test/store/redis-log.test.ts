import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { RedisLog } from '../../src/store/redis/redis-log'
import { TestRedis } from '../helpers/redis-server'
import { eventLogCases, type TestLog } from './event-log.case'

let redis: TestRedis
const open: RedisLog[] = []
beforeAll(async () => {
  redis = await TestRedis.start()
})
afterAll(() => redis?.stop())

function openLog(): RedisLog {
  const log = new RedisLog({ url: redis.url })
  open.push(log)
  return log
}

eventLogCases('RedisLog', {
  create: async () => {
    await redis.cli('FLUSHALL')
    return openLog()
  },
  reopen: async (log: TestLog) => {
    await log.close()
    return openLog()
  },
  cleanup: async () => {
    for (const log of open.splice(0)) await log.close()
  },
})

describe('RedisLog on a shared Redis', () => {
  test('one node at a time holds the pruning lease; another takes it once the holder is gone', async () => {
    await redis.cli('FLUSHALL')
    const [a, b] = [openLog(), openLog()]
    await a.open()
    await b.open()
    expect(await a.mayPrune()).toBe(true)
    expect(await b.mayPrune()).toBe(false)
    expect(await a.mayPrune()).toBe(true)
    // The holder died: its lease expires (here, removed at once) and the other node prunes.
    await redis.cli('DEL', 'rc:pruner')
    expect(await b.mayPrune()).toBe(true)
    expect(await a.mayPrune()).toBe(false)
    for (const log of open.splice(0)) await log.close()
  })
})
