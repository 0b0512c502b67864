import type { Grants } from '../auth/grants'
import { isDeeperThan } from '../core/depth'
import { RingcastError } from '../core/errors'
import type { PublishItem, PublishResult } from '../core/hub'
import type { AppDeps } from './deps'

/** Dead-letter streams are written by the server alone: a letter a client wrote could be replayed into any stream. */
export function requireClientWritable(stream: string): void {
  if (stream.startsWith('dlq.')) {
    throw new RingcastError('forbidden', `Stream "${stream}" is a dead-letter stream; only the server writes to it.`, 'Publish to the original stream, or replay dead letters with POST /v1/groups/{group}/dlq/replay.', { stream })
  }
}

/** Who publishes: what they may do, and the name the rate limit counts them under. */
export interface Publisher {
  readonly grants: Grants
  readonly client: string
}

/** The one way a client's events get in, over HTTP or WebSocket: grant, depth, rate, then the hub's group commit. */
export function publishAs(d: Pick<AppDeps, 'auth' | 'publishRate' | 'hub' | 'config'>, who: Publisher, stream: string, items: readonly PublishItem[]): Promise<PublishResult[]> {
  d.auth.requirePublish(who.grants, stream)
  requireClientWritable(stream)
  const maxDepth = d.config.maxDepth
  items.forEach((item, i) => {
    // Refused here, before it joins a batch: serializing it later would overflow the stack and fail the whole commit.
    if (isDeeperThan(item.data, maxDepth)) {
      throw new RingcastError('invalid_body', `${items.length > 1 ? `Event [${i}]: ` : ''}data nests arrays and objects deeper than ${maxDepth} levels.`, 'Flatten the data, or raise --max-depth.')
    }
  })
  if (d.publishRate.isLimited) d.publishRate.take(who.client, items.length)
  return d.hub.publish(stream, items)
}
