/**
 * How late the event loop runs a timer: a blocked loop (a long pass, a big replay) shows as lag. Reports the
 * worst delay of the last complete window and the current one, so a scrape never misses a stall between scrapes.
 */
export class EventLoopLag {
  private timer: ReturnType<typeof setInterval> | undefined
  private lastTickAt = 0
  private worstMs = 0
  private previousWorstMs = 0
  private windowStartedAt = performance.now()

  constructor(
    private readonly tickMs = 100,
    private readonly windowMs = 10_000,
  ) {}

  /** Starts ticking (unref'd: it never keeps the process alive); returns this. */
  start(): this {
    this.lastTickAt = performance.now()
    // One repeating timer, no closure per tick: an idle server allocates nothing, so Bun's idle GC can slow down.
    this.timer = setInterval(() => this.tick(), this.tickMs)
    this.timer.unref()
    return this
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The longest a timer waited past its due time, in seconds, over the last one to two windows. */
  seconds(): number {
    return Math.max(this.worstMs, this.previousWorstMs) / 1000
  }

  private tick(): void {
    const now = performance.now()
    if (now - this.windowStartedAt >= this.windowMs) {
      this.previousWorstMs = this.worstMs
      this.worstMs = 0
      this.windowStartedAt = now
    }
    this.worstMs = Math.max(this.worstMs, now - this.lastTickAt - this.tickMs)
    this.lastTickAt = now
  }
}
