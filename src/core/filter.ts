import { createHash } from 'node:crypto'
import type { Event } from './event'
import { isWildcard, matchesTokens } from './pattern'

/** What one subscription asks for: streams or patterns, optionally narrowed by types and a correlation id. */
export class Filter {
  readonly patterns: readonly string[]
  readonly types: ReadonlySet<string> | null
  readonly correlationId: string | null
  /** Canonical text: two filters with the same key select the same events. */
  readonly key: string
  /** Whether every pattern is a plain stream name. */
  readonly isExact: boolean
  private single: Selector | undefined
  // Split once here: matching re-split every pattern for every event.
  private readonly names: ReadonlySet<string>
  private readonly wildcards: readonly string[][]

  constructor(patterns: readonly string[], types?: readonly string[] | null, correlationId?: string | null) {
    this.patterns = [...new Set(patterns)].sort()
    this.types = types && types.length > 0 ? new Set(types) : null
    this.correlationId = correlationId ?? null
    this.isExact = this.patterns.every((p) => !isWildcard(p))
    this.key = JSON.stringify([this.patterns, this.types ? [...this.types].sort() : null, this.correlationId])
    this.names = new Set(this.patterns.filter((p) => !isWildcard(p)))
    this.wildcards = this.patterns.filter(isWildcard).map((p) => p.split('.'))
  }

  /** The selector of a subscription to this filter alone; built once, since pollers subscribe anew for every wait. */
  get selector(): Selector {
    return (this.single ??= new Selector([this]))
  }

  matchesStream(name: string): boolean {
    if (this.names.has(name)) return true
    if (this.wildcards.length === 0) return false
    const tokens = name.split('.')
    for (const w of this.wildcards) if (matchesTokens(w, tokens)) return true
    return false
  }

  matches(event: Event): boolean {
    if (this.types && !this.types.has(event.type)) return false
    if (this.correlationId !== null && event.correlationId !== this.correlationId) return false
    return this.matchesStream(event.stream)
  }
}

/**
 * The union of one connection's filters. Connections with the same filters share one feed,
 * so an event is matched and encoded once for all of them, and sent once per connection.
 */
export class Selector {
  readonly key: string
  readonly isExact: boolean

  constructor(readonly filters: readonly Filter[]) {
    const text = filters
      .map((f) => f.key)
      .sort()
      .join('\n')
    // A socket's union of many long patterns would make a key of megabytes: past a few patterns it is hashed.
    this.key = text.length <= 256 ? text : createHash('sha256').update(text).digest('base64')
    this.isExact = filters.every((f) => f.isExact)
  }

  /** Plain stream names named by exact filters (ending them when those streams close). */
  exactStreams(): string[] {
    const names = new Set<string>()
    for (const f of this.filters) if (f.isExact) for (const p of f.patterns) names.add(p)
    return [...names]
  }

  /** Every distinct pattern of every filter, plain names included (for the fan-out index). */
  allPatterns(): string[] {
    const all = new Set<string>()
    for (const f of this.filters) for (const p of f.patterns) all.add(p)
    return [...all]
  }

  matchesStream(name: string): boolean {
    for (const f of this.filters) if (f.matchesStream(name)) return true
    return false
  }

  matches(event: Event): boolean {
    for (const f of this.filters) if (f.matches(event)) return true
    return false
  }
}
