import type { Hub } from '../core/hub'
import type { Group } from './group'

/** What GET /v1/groups/{group} reports. */
export interface GroupStats {
  /** Matching events not yet delivered to any consumer (unread, or read and waiting behind their stream). */
  lag: number
  /** Delivered and not settled: held, waiting for redelivery, or on their way to the DLQ. */
  pending: number
  inFlight: number
  consumers: { consumer: string; inFlight: number; lastSeenMs: number | null }[]
  acksPerSecond: number
}

// A consumer that holds nothing and has not been seen for this long drops off the list.
export const FORGET_MS = 3600_000

export async function groupStats(hub: Hub, group: Group, nowMs = Date.now()): Promise<GroupStats> {
  let waiting = 0
  let pending = 0
  let inFlight = 0
  const held = new Map<string, number>()
  for (const d of group.pending.values()) {
    if (d.attempt === 0) {
      waiting++
      continue
    }
    pending++
    if (d.consumer === null) continue
    inFlight++
    held.set(d.consumer, (held.get(d.consumer) ?? 0) + 1)
  }
  for (const [name, seen] of group.consumers) if (!held.has(name) && nowMs - seen > FORGET_MS) group.consumers.delete(name)
  const names = new Set([...group.consumers.keys(), ...held.keys()])
  const consumers = [...names].sort().map((consumer) => ({ consumer, inFlight: held.get(consumer) ?? 0, lastSeenMs: group.consumers.get(consumer) ?? null }))
  return { lag: (await unread(hub, group)) + waiting, pending, inFlight, consumers, acksPerSecond: group.ackRate(nowMs) }
}

/** Matching events after the cursor: counted once by reading pages (capped at 1M), then kept up to date by the group. */
async function unread(hub: Hub, group: Group): Promise<number> {
  if (group.unread !== null) return group.unread
  let n = 0
  let position = group.cursor
  for (let pages = 0; pages < 1000; pages++) {
    const page = await hub.read(group.filter, position, 1000)
    for (const e of page.events) if (e.stream !== group.dlqStream) n++
    position = page.next
    if (page.isDone) return (group.unread = n)
  }
  return n
}
