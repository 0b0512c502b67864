import { existsSync } from 'node:fs'
import { TestRedis } from '../../test/helpers/redis-server.ts'
import { startNchan } from './nchan.ts'
import { startRingcast } from './ringcast.ts'
import type { Server } from './server.ts'

/** What Redis is started with: the fsync a cluster's durable acknowledgement waits for (README "Scale out"). */
export const APPENDFSYNC = 'everysec'
const NODE_NAMES = ['a', 'b', 'c', 'd']

/** Whether Debian's redis-server is installed (`apt-get install -y redis-server`). */
export const hasRedis = (): boolean => !!Bun.which('redis-server') || existsSync('/usr/bin/redis-server')

/**
 * N nodes of ringcast (`serve --redis`) or of Nchan (Redis mode) sharing one redis-server started here, on a loopback port
 * in a temp dir with appendonly yes, appendfsync everysec and maxmemory-policy noeviction. The first node is the
 * server's `base`; its figures sum every node and Redis. Stopping it stops the nodes, then Redis.
 */
export async function startCluster(kind: 'ringcast' | 'nchan', n: number, opts: { fromSource: boolean }): Promise<Server> {
  if (!hasRedis()) throw new Error('redis-server not installed: run `apt-get update && apt-get install -y redis-server` (as root)')
  const redis = await TestRedis.start({ appendfsync: APPENDFSYNC })
  const names = NODE_NAMES.slice(0, n)
  const started = await Promise.allSettled(names.map((node) => (kind === 'ringcast' ? startRingcast({ ...opts, redis: redis.url, node }) : startNchan({ redis: redis.url }))))
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const stop = async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()))
    await redis.stop()
  }
  try {
    const failed = started.find((s) => s.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    const info = await redis.cli('INFO', 'server')
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1])
    if (!pid) throw new Error(`redis-server on port ${redis.port} did not say its process id`)
    // Read back, so the report says what Redis runs with, not what was asked.
    const settings = []
    for (const name of ['appendonly', 'appendfsync', 'maxmemory-policy']) settings.push(`${name} ${(await redis.cli('CONFIG', 'GET', name)).split('\n')[1]}`)
    return {
      spec: { kind, base: nodes[0].spec.base, nodes: nodes.map((s) => s.spec.base) },
      pid: nodes[0].pid,
      processes: [...nodes.map((s, i) => ({ name: `node ${names[i]}`, pid: s.pid })), { name: 'redis', pid }],
      description: `${n} × ${nodes[0].description} on one redis-server ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'} (${settings.join(', ')})`,
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
