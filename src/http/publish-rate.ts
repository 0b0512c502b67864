import { RingcastError } from '../core/errors'

interface Bucket {
  tokens: number
  updatedMs: number
}

/** Events per second per client, as a token bucket holding one second's worth (the burst). 0 means unlimited. */
export class PublishRate {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly perSecond: number) {}

  /** Whether a limit applies (asking who the client is costs a lookup; without a limit, nobody asks). */
  get isLimited(): boolean {
    return this.perSecond > 0
  }

  /** Takes `events` tokens or throws rate_limited with the whole seconds to wait in `retryAfter`. */
  take(client: string, events: number, nowMs = Date.now()): void {
    if (this.perSecond <= 0) return
    const burst = this.perSecond
    let bucket = this.buckets.get(client)
    if (!bucket) {
      if (this.buckets.size >= 10_000) this.forgetFull(nowMs)
      bucket = { tokens: burst, updatedMs: nowMs }
      this.buckets.set(client, bucket)
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * this.perSecond)
    bucket.updatedMs = nowMs
    // A batch larger than the burst passes once the bucket is full, leaving it in debt.
    const needed = Math.min(events, burst)
    if (bucket.tokens < needed) {
      // Whole seconds, as the Retry-After header carries them, so body and header agree.
      const retryAfter = Math.max(1, Math.ceil((needed - bucket.tokens) / this.perSecond))
      throw new RingcastError('rate_limited', `Publish rate limit of ${this.perSecond} events/s reached.`, `Retry after ${retryAfter} s.`, { retryAfter })
    }
    bucket.tokens -= events
  }

  /** Buckets that have refilled carry no state worth keeping. */
  private forgetFull(nowMs: number): void {
    for (const [client, b] of this.buckets) {
      if (b.tokens + ((nowMs - b.updatedMs) / 1000) * this.perSecond >= this.perSecond) this.buckets.delete(client)
    }
  }
}
