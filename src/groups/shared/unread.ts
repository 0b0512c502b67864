import type { Hub } from '../../core/hub'
import type { ReadTarget } from './read-ahead'

// Counted afresh this often, so events retention removed meanwhile stop counting.
const RECOUNT_MS = 10_000
const MAX_PAGES = 1000

/**
 * How many matching events after a group's cursor this node has applied (the unread part of its lag).
 * Counted once by reading, then kept up to date by reading only what changed: the events the cursor
 * moved past and the events applied since.
 */
export class UnreadCount {
  private known: { key: string; cursor: number; through: number; count: number; countedAtMs: number } | undefined

  constructor(private readonly hub: Hub) {}

  /** `key` names the filter the count is for: another key counts afresh. */
  async count(target: ReadTarget, key: string, cursor: number): Promise<number> {
    const last = this.hub.lastId
    const k = this.known
    const nowMs = Date.now()
    let count: number
    let countedAtMs = nowMs
    if (k && k.key === key && cursor >= k.cursor && nowMs - k.countedAtMs < RECOUNT_MS) {
      count = k.count - (await this.between(target, k.cursor, Math.min(cursor, k.through))) + (await this.between(target, Math.max(k.through, cursor), last))
      countedAtMs = k.countedAtMs
    } else count = await this.between(target, cursor, last)
    this.known = { key, cursor, through: Math.max(last, cursor), count, countedAtMs }
    return count
  }

  /** Matching events with after < id <= through. */
  private async between(target: ReadTarget, after: number, through: number): Promise<number> {
    let n = 0
    let position = after
    for (let pages = 0; pages < MAX_PAGES && position < through; pages++) {
      const page = await this.hub.read(target.filter, position, 1000)
      for (const e of page.events) if (e.id <= through && e.stream !== target.dlqStream) n++
      if (page.isDone || page.events.length === 0) break
      position = page.next
    }
    return n
  }
}
