import { RingcastError } from '../core/errors'
import { Filter } from '../core/filter'
import { assertPattern, assertStreamName } from '../core/pattern'

// Pollers ask for the same few filters over and over: building and checking one each time is wasted work.
const filters = new Map<string, Filter>()
// The commonest, one pattern and nothing else, keyed by the pattern itself: no key to build.
const plainFilters = new Map<string, Filter>()

/** A filter from values a schema already checked (counts, types); throws bad_pattern naming a bad pattern. */
export function filterOf(patterns: readonly string[], types?: readonly string[], correlationId?: string): Filter {
  const isPlain = patterns.length === 1 && !types && correlationId === undefined
  const cache = isPlain ? plainFilters : filters
  const key = isPlain ? patterns[0] : `${listKey(patterns)}${types ? listKey(types) : '-'}${correlationId === undefined ? '-' : listKey([correlationId])}`
  const known = cache.get(key)
  if (known) return known
  for (const p of patterns) assertPattern(p)
  const filter = new Filter(patterns, types, correlationId)
  // Only small filters are kept: the repeated ones are pollers', and a cache of 64-pattern filters would hold megabytes.
  if (patterns.length > 8) return filter
  if (cache.size >= 1024) cache.clear()
  cache.set(key, filter)
  return filter
}

/** Self-delimiting, so no two different inputs share a cache key, whatever characters they hold. */
function listKey(values: readonly string[]): string {
  let key = `${values.length}#`
  for (const v of values) key += `${v.length}:${v}`
  return key
}

/** A stream name from a route param, which Elysia has already percent-decoded (decoding twice made `%25` a 500). */
export function streamOf(name: string): string {
  return assertStreamName(name)
}

/** The resume position: Last-Event-ID wins over `after` (it is what a reconnecting EventSource sends). */
export function positionOf(lastEventId: string | null, after: number | undefined): number | null {
  if (lastEventId !== null && lastEventId.trim() !== '') {
    const id = Number(lastEventId)
    if (!Number.isSafeInteger(id) || id < 0) throw new RingcastError('bad_request', `Last-Event-ID "${lastEventId.slice(0, 40)}" is not an event id.`, 'Ids are non-negative integers.')
    return id
  }
  return after ?? null
}

export function sinceOf(since: string | undefined): number | null {
  if (since === undefined) return null
  const ms = Date.parse(since)
  if (Number.isNaN(ms)) throw new RingcastError('bad_request', `since "${since.slice(0, 40)}" is not an ISO 8601 time.`, 'Use e.g. 2026-11-22T04:00:00Z.')
  return ms
}
