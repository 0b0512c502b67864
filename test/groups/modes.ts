import { TestRedis } from '../helpers/redis-server'
import { startTestServer, type TestServer } from '../helpers/start-server'

/** Where a server keeps consumer-group state: its SQLite file, or Redis (shared by nodes). */
export type GroupMode = 'sqlite' | 'redis'

/** Group suites run once per mode: every behaviour must hold on Redis as it does on SQLite. */
export const MODES: readonly GroupMode[] = ['sqlite', 'redis']

/** An in-process server on SQLite, or on a test redis-server of its own (stopped with it); flags as on the command line. */
export async function startModeServer(mode: GroupMode, flags: Record<string, string> = {}): Promise<TestServer> {
  if (mode === 'sqlite') return startTestServer(flags)
  const redis = await TestRedis.start({ appendfsync: 'everysec' })
  try {
    const server = await startTestServer({ ...flags, redis: redis.url })
    return {
      ...server,
      close: async () => {
        try {
          await server.close()
        } finally {
          await redis.stop()
        }
      },
    }
  } catch (error) {
    await redis.stop()
    throw error
  }
}
