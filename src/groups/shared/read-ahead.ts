import type { Event } from '../../core/event'
import type { Filter } from '../../core/filter'
import type { Hub } from '../../core/hub'

/** What a group reads: its filter, its DLQ stream (never read), and where retention gaps start to count. */
export interface ReadTarget {
  readonly filter: Filter
  readonly dlqStream: string
  readonly config: { readonly gapFloor: number }
}

/** The matching events after a cursor that this node has applied: what a claim proposes to the store. */
export interface Ahead {
  /** In id order, all of them after the cursor and up to `end`. */
  events: Event[]
  /** Every matching event up to here is in `events`: the group's cursor may move here once they are all taken. */
  end: number
  /** Retention removed matching events after the cursor before the group read them. */
  gap?: { after: number; firstId: number }
}

interface Page extends Ahead {
  from: number
}

const PAGE = 500

/** The events of these deliveries this node can still read (ring first), by id; those not found were removed. */
export async function eventsOf(hub: Hub, deliveries: readonly { id: number; stream: string }[], known = new Map<number, Event>()): Promise<Map<number, Event>> {
  const wanted = new Map<string, number[]>()
  for (const d of deliveries) if (!known.has(d.id)) wanted.set(d.stream, [...(wanted.get(d.stream) ?? []), d.id])
  for (const [stream, ids] of wanted) for (const e of await hub.events(stream, ids)) known.set(e.id, e)
  return known
}

/**
 * One page of a group's matching events, read from the hub and kept while the group's cursor moves
 * through it (on this node or another). Never reaches past what this node has applied: an event
 * another node committed and this one has not applied yet must not be skipped.
 */
export class ReadAhead {
  private page: Page | undefined

  constructor(
    private readonly hub: Hub,
    private readonly target: () => ReadTarget,
  ) {}

  /** The events after `cursor`, reading the next page when this one is used up and the hub has more. */
  async after(cursor: number): Promise<Ahead> {
    let p = this.page
    if (!p || cursor < p.from || cursor > p.end || (cursor === p.end && this.hub.lastId > p.end)) p = this.page = await this.read(cursor)
    const at = p.events.findIndex((e) => e.id > cursor)
    return { events: at < 0 ? [] : p.events.slice(at), end: p.end, ...(cursor === p.from && p.gap && { gap: p.gap }) }
  }

  /** The group's filter changed: what was read is for another filter. */
  reset(): void {
    this.page = undefined
  }

  private async read(cursor: number): Promise<Page> {
    const last = this.hub.lastId
    if (cursor >= last) return { from: cursor, events: [], end: cursor }
    const { filter, dlqStream, config } = this.target()
    const page = await this.hub.read(filter, cursor, PAGE)
    const events = page.events.filter((e) => e.id <= last && e.stream !== dlqStream)
    const end = page.reset ? cursor : Math.min(page.next, last)
    // Events pruned before the group was created with start=earliest are not the group's gap.
    const isGap = page.gap && this.hub.streamsMatching(filter.patterns).some((s) => s.record.prunedThrough > Math.max(cursor, config.gapFloor))
    return { from: cursor, events, end, ...(isGap && { gap: page.gap }) }
  }
}
