import { RedisClient } from 'bun'
import { RingcastError } from '../../core/errors'

/** A Redis command failed because Redis cannot be reached: callers answer 503 with Retry-After. */
export function unavailable(error: unknown): RingcastError {
  return new RingcastError('unavailable', `Redis cannot be reached: ${(error as Error)?.message ?? error}`, 'Nothing was stored; retry in a moment.', { retryAfter: 1 })
}

/**
 * A client that never queues while disconnected (a publish must fail at once, not wait for Redis)
 * and reconnects forever with Bun's backoff.
 */
export function connectRedis(url: string): RedisClient {
  return new RedisClient(url, { enableOfflineQueue: false, autoReconnect: true, maxRetries: 4_294_967_295, connectionTimeout: 5000 })
}

/** Runs a Lua script by its hash, loading it once more when Redis answers NOSCRIPT (after a restart). */
export class Scripts {
  private readonly sha = new Map<string, string>()

  constructor(private readonly client: RedisClient) {}

  async run(source: string, args: readonly string[]): Promise<unknown> {
    let sha = this.sha.get(source)
    if (sha) {
      try {
        return await this.client.send('EVALSHA', [sha, '0', ...args])
      } catch (error) {
        if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error
      }
    }
    sha = String(await this.client.send('SCRIPT', ['LOAD', source]))
    this.sha.set(source, sha)
    return this.client.send('EVALSHA', [sha, '0', ...args])
  }
}

/** Whether an error is Redis being unreachable rather than a command failing. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? ''
  return code.startsWith('ERR_REDIS_CONNECTION') || /connection|closed|ECONNREFUSED|socket/i.test(String((error as Error)?.message))
}
