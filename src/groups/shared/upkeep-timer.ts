// Looks of one group on one node are at least this far apart.
const MIN_GAP_MS = 20

/**
 * When a shared group next needs a look (expiring leases, taking over dead letters): at the next due
 * time the store reported, and at the latest ackTimeout after the last look, since a lease another
 * node hands out after that look cannot come due before then. Times from the store are its clock.
 */
export class UpkeepTimer {
  private timer: ReturnType<typeof setTimeout> | undefined
  private atMs = Number.POSITIVE_INFINITY
  private lastLookMs = Date.now()
  private lastFiredMs = 0
  /** The store's clock minus this node's. */
  private offsetMs = 0
  private isStopped = false

  constructor(private readonly look: () => void) {}

  /** The store answered at `nowMs` (its clock) and next needs a look at `nextDueMs` (or only the recheck). */
  looked(nowMs: number, nextDueMs: number | null, ackTimeoutMs: number): void {
    this.offsetMs = nowMs - Date.now()
    this.lastLookMs = Date.now()
    this.arm(nextDueMs === null ? null : nextDueMs - this.offsetMs, ackTimeoutMs)
  }

  /** Looks again in `ms` at the latest (the first look, or after a failed one). */
  lookIn(ms: number, ackTimeoutMs: number): void {
    this.arm(Date.now() + ms, ackTimeoutMs)
  }

  stop(): void {
    this.isStopped = true
    clearTimeout(this.timer)
  }

  /** `dueMs` on this node's clock. */
  private arm(dueMs: number | null, ackTimeoutMs: number): void {
    if (this.isStopped) return
    const recheck = this.lastLookMs + ackTimeoutMs
    const at = Math.max(dueMs === null ? recheck : Math.min(dueMs, recheck), this.lastFiredMs + MIN_GAP_MS)
    if (this.timer !== undefined && this.atMs <= at) return
    clearTimeout(this.timer)
    this.atMs = at
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.atMs = Number.POSITIVE_INFINITY
      this.lastFiredMs = Date.now()
      if (!this.isStopped) this.look()
    }, Math.max(0, at - Date.now()) + 1)
  }
}
