import { afterAll, beforeAll } from 'bun:test'
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
