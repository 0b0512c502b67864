import type { Catalog, Change, EventLog, SharedLog } from './log'

/** What a follower needs of the hub. */
export interface FollowedHub {
  /** Highest id applied. */
  lastId(): number
  apply(changes: readonly Change[]): void
  /** Starts again from a fresh catalog (rings dropped, records and counts reloaded). */
  reload(catalog: Catalog): void
  failed(message: string, error: unknown): void
  reachable(isReachable: boolean, reason: string): void
}

/**
 * Applies a shared log's changes (every node's, this one's included) in the log's order, each once,
 * events strictly one after the other; starts again from the log when it cannot go on.
 */
export class Follower {
  private position = ''
  private handle: { stop(): void } | undefined
  private waiting: { until(position: string): boolean }[] = []
  private isReloading = false
  private isStopped = false

  constructor(
    private readonly log: EventLog & SharedLog,
    private readonly hub: FollowedHub,
  ) {}

  /** Follows from the position the catalog is true at. */
  start(catalog: Catalog): void {
    if (this.isStopped || catalog.position === undefined) return
    this.position = catalog.position
    this.handle = this.log.follow(catalog.position, {
      changes: (changes, position) => this.take(changes, position),
      lost: (reason) => void this.reload(reason),
      reachable: (isReachable, reason) => this.hub.reachable(isReachable, reason),
    })
  }

  /** Resolves once everything up to `position` is applied here (or after a while, if the follower lags). */
  settled(position: string): Promise<void> {
    if (!isAfter(position, this.position)) return Promise.resolve()
    return new Promise((resolve) => {
      // The write is committed either way; a lagging follower only delays this answer, never drops it.
      const timer = setTimeout(resolve, 2000)
      this.waiting.push({ until: (at) => !isAfter(position, at) && (clearTimeout(timer), resolve(), true) })
    })
  }

  stop(): void {
    this.isStopped = true
    this.handle?.stop()
  }

  private take(changes: readonly Change[], position: string): void {
    const fresh: Change[] = []
    let last = this.hub.lastId()
    for (const change of changes) {
      if (change.kind === 'event') {
        if (change.row.id <= last) continue
        // Ids are consecutive in the log: a hole means it was trimmed past this node, or lost.
        if (change.row.id !== last + 1) return void this.reload(`the log jumped from id ${last} to ${change.row.id}`)
        last = change.row.id
      }
      fresh.push(change)
    }
    this.hub.apply(fresh)
    this.position = position
    this.waiting = this.waiting.filter((w) => !w.until(position))
  }

  /** Starts again from what the log holds now, retrying until it answers. */
  private async reload(reason: string): Promise<void> {
    if (this.isReloading || this.isStopped) return
    this.isReloading = true
    this.handle?.stop()
    this.hub.failed(`reloading from the shared log: ${reason}`, new Error(reason))
    for (;;) {
      try {
        const catalog = await this.log.open(this.hub.lastId())
        this.hub.reload(catalog)
        this.isReloading = false
        return this.start(catalog)
      } catch (error) {
        this.hub.failed('reloading from the shared log failed; retrying in 1 s', error)
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
  }
}

/** Whether shared-log position `a` ("<id>-<n>") comes after `b`; anything comes after nothing. */
function isAfter(a: string, b: string): boolean {
  if (b === '') return true
  const [ai, an] = a.split('-').map(Number)
  const [bi, bn] = b.split('-').map(Number)
  return ai > bi || (ai === bi && an > bn)
}
