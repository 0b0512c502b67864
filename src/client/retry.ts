/** Reconnect and retry delays: exponential from `minMs` to `maxMs`, with jitter. */
export interface Backoff {
  minMs?: number
  maxMs?: number
}

/** @internal The delay before retry number `attempt` (0-based): half fixed, half random, so clients that failed together spread out. */
export function delayMs(attempt: number, backoff: Backoff = {}): number {
  const ceiling = Math.min(backoff.maxMs ?? 10_000, (backoff.minMs ?? 200) * 2 ** Math.min(attempt, 20))
  return ceiling / 2 + (Math.random() * ceiling) / 2
}

/** @internal Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done)
  })
}
