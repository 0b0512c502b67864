import { RingcastError } from '../core/errors'
import { Filter } from '../core/filter'
import { assertPattern, assertStreamName } from '../core/pattern'

// Pollers ask for the same few filters over and over: building and checking one each time is wasted work.
const filters = new Map<string, Filter>()

/** A filter from request values; throws bad_pattern / bad_request with the offending value named. */
export function filterOf(patterns: readonly string[], types?: readonly string[], correlationId?: string): Filter {
  const key = `${listKey(patterns)}${types ? listKey(types) : '-'}${correlationId === undefined ? '-' : listKey([correlationId])}`
  const known = filters.get(key)
  if (known) return known
  if (patterns.length === 0) throw new RingcastError('bad_request', 'No stream given.', 'Name at least one stream or pattern, e.g. ?stream=jobs.*')
  if (patterns.length > 64) throw new RingcastError('bad_request', `${patterns.length} streams given; at most 64 per subscription.`, 'Use patterns to cover more streams.')
  for (const p of patterns) assertPattern(p)
  for (const t of types ?? []) if (t.length === 0 || t.length > 128 || /\s/.test(t)) throw new RingcastError('bad_request', `Invalid event type "${t.slice(0, 40)}".`, 'Types are 1–128 characters without spaces.')
  const filter = new Filter(patterns, types, correlationId)
  if (filters.size >= 1024) filters.clear()
  filters.set(key, filter)
  return filter
}

/** Self-delimiting, so no two different inputs share a cache key, whatever characters they hold. */
function listKey(values: readonly string[]): string {
  let key = `${values.length}#`
  for (const v of values) key += `${v.length}:${v}`
  return key
}

/** `stream=` and `types=` may be repeated or comma-separated. */
export function listOf(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return []
  const values = typeof value === 'string' ? [value] : value
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0)
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
