import { Filter } from '../../core/filter'
import type { Hub } from '../../core/hub'
import type { ReadTarget } from './read-ahead'

const MAX_PAGES = 1000

/** Where a count was made: the group's cursor and read counter, the last id applied, and retention's mark. */
interface Known {
  key: string
  cursor: number
  read: number
  through: number
  pruned: number
  count: number
}

/**
 * How many matching events after a group's cursor this node has applied (the unread part of its lag).
 * Counted once, then kept up to date without reading again what the group read: the store counts the
 * events it read, and every matching event the cursor passes is read (or pruned, which counts afresh).
 */
export class UnreadCount {
  private known: Known | undefined

  constructor(private readonly hub: Hub) {}

  /** `key` names the filter the count is for; `read` is the group's count of events read so far. */
  async count(target: ReadTarget, key: string, cursor: number, read: number): Promise<number> {
    const through = Math.max(this.hub.lastId, cursor)
    const pruned = this.prunedThrough(target)
    const k = this.known
    const isValid = k && k.key === key && cursor >= k.cursor && read >= k.read && (pruned <= k.cursor || pruned === k.pruned)
    const count = isValid ? k.count + (await this.between(target, k.through, through)) - (read - k.read) : await this.between(target, cursor, through)
    this.known = { key, cursor, read, through, pruned, count }
    return Math.max(0, count)
  }

  private prunedThrough(target: ReadTarget): number {
    let max = 0
    for (const s of this.hub.streamsMatching(target.filter.patterns)) max = Math.max(max, s.record.prunedThrough)
    return max
  }

  /** Matching events with after < id <= through: from the streams' counts where a whole stream is in range. */
  private async between(target: ReadTarget, after: number, through: number): Promise<number> {
    if (after >= through) return 0
    const { filter, dlqStream } = target
    if (filter.types !== null || filter.correlationId !== null) return this.read(filter, dlqStream, after, through)
    let n = 0
    for (const s of this.hub.streamsMatching(filter.patterns)) {
      if (s.name === dlqStream || s.lastId === null || s.firstId === null || s.lastId <= after || s.firstId > through) continue
      n += s.firstId > after && s.lastId <= through ? s.events : await this.read(new Filter([s.name]), dlqStream, after, through)
    }
    return n
  }

  private async read(filter: Filter, dlqStream: string, after: number, through: number): Promise<number> {
    let n = 0
    let position = after
    for (let pages = 0; pages < MAX_PAGES && position < through; pages++) {
      const page = await this.hub.read(filter, position, 1000)
      for (const e of page.events) if (e.id <= through && e.stream !== dlqStream) n++
      if (page.isDone || page.events.length === 0) break
      position = page.next
    }
    return n
  }
}
