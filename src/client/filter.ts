import type { Envelope } from './types'

/** What a subscription selects: streams or patterns, and optionally types and one workflow. */
export interface Filter {
  streams: string[]
  types?: string[]
  correlationId?: string
}

/** @internal Whether a stream name matches a pattern: `*` is one token, a final `**` one or more. */
export function matches(pattern: string, stream: string): boolean {
  const want = pattern.split('.')
  const got = stream.split('.')
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '**') return got.length > i
    if (i >= got.length || (want[i] !== '*' && want[i] !== got[i])) return false
  }
  return want.length === got.length
}

/** @internal Whether an event belongs to the filter (a WebSocket sends each event once; subscriptions pick theirs). */
export function selects(filter: Filter, event: Envelope): boolean {
  return (
    filter.streams.some((p) => matches(p, event.stream)) &&
    (!filter.types?.length || filter.types.includes(event.type)) &&
    (filter.correlationId === undefined || filter.correlationId === event.correlationId)
  )
}

/** @internal The query string of a subscription or poll of the filter. */
export function queryOf(filter: Filter, extra: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams()
  for (const s of filter.streams) q.append('stream', s)
  if (filter.types?.length) q.set('types', filter.types.join(','))
  if (filter.correlationId !== undefined) q.set('correlationId', filter.correlationId)
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, String(v))
  return q.toString()
}
