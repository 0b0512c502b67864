import type { LogRow } from '../../core/log'

/** One page of a stream's history: the rows that matched, where the next page starts, and whether there is one. */
export interface Page {
  rows: LogRow[]
  next: string
  isLast: boolean
}

interface Cursor {
  stream: string
  from: string
  rows: LogRow[]
  at: number
  isLast: boolean
}

/**
 * The first `limit` rows of several streams in `order`, read a small page per stream at a time and
 * merged as they come: a read over many streams fetches about what it returns, not `limit` from each.
 */
export async function pagedMerge(
  streams: readonly string[],
  limit: number,
  start: string,
  fetch: (stream: string, from: string, count: number) => Promise<Page>,
  isBefore: (a: LogRow, b: LogRow) => boolean,
): Promise<LogRow[]> {
  // Twice a fair share, so streams of even rate rarely need a second page.
  const count = Math.max(16, Math.ceil((2 * limit) / streams.length))
  const cursors: Cursor[] = streams.map((stream) => ({ stream, from: start, rows: [], at: 0, isLast: false }))
  const fill = async (c: Cursor) => {
    const page = await fetch(c.stream, c.from, count)
    c.rows = page.rows
    c.at = 0
    c.from = page.next
    c.isLast = page.isLast
  }
  const out: LogRow[] = []
  while (out.length < limit) {
    // Every stream that may hold the next row must show its head before one is chosen.
    const empty = cursors.filter((c) => c.at === c.rows.length && !c.isLast)
    if (empty.length > 0) {
      await Promise.all(empty.map(fill))
      continue
    }
    let best: Cursor | undefined
    for (const c of cursors) if (c.at < c.rows.length && (!best || isBefore(c.rows[c.at], best.rows[best.at]))) best = c
    if (!best) break
    out.push(best.rows[best.at++])
  }
  return out
}
