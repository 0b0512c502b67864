import type { Static, TObject, TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { RingcastError } from '../core/errors'
import { invalid } from '../validation'

type Kind = 'integer' | 'number' | 'boolean' | 'list' | 'text'

/**
 * Reads a request URL's query against an object schema: integers, numbers, booleans and lists
 * (repeated or comma-separated) are converted, every bound is checked, and a refusal names the
 * parameter. Unknown parameters are ignored: EventSource polyfills and cache busters add their own.
 */
export function queryReader<S extends TObject>(schema: S): (url: string) => Static<S> {
  const check = TypeCompiler.Compile(schema)
  const kinds = new Map<string, Kind>()
  for (const [key, property] of Object.entries(schema.properties)) kinds.set(key, kindOf(property))
  // Every query starts from the same shape (optional keys unset), so reads and the check stay on one fast path.
  const required = new Set(schema.required ?? [])
  const blank = Object.fromEntries([...kinds.keys()].filter((key) => !required.has(key)).map((key) => [key, undefined]))
  return (url) => {
    const at = url.indexOf('?')
    const query: Record<string, unknown> = { ...blank }
    if (at >= 0) {
      for (const [key, value] of pairsOf(url.slice(at + 1))) {
        const kind = kinds.get(key)
        if (kind === undefined) continue
        if (kind === 'list') {
          const list = (query[key] ??= []) as string[]
          for (const part of value.split(',')) if (part.trim() !== '') list.push(part.trim())
          continue
        }
        if (query[key] !== undefined) throw new RingcastError('invalid_request', `${key} is given more than once.`, 'Give each parameter once (only stream and types may repeat).')
        query[key] = converted(kind, value)
      }
    }
    if (!check.Check(query)) throw invalid(check.Errors(query).First())
    return query as Static<S>
  }
}

/** The query's key=value pairs as URLSearchParams reads them; the common unescaped query is split by hand, which costs a fraction. */
function pairsOf(query: string): Iterable<[string, string]> {
  if (query.includes('%') || query.includes('+')) return new URLSearchParams(query)
  const pairs: [string, string][] = []
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    pairs.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)])
  }
  return pairs
}

function kindOf(schema: TSchema): Kind {
  if (schema.type === 'integer' || schema.type === 'number' || schema.type === 'boolean') return schema.type
  if (schema.type === 'array') return 'list'
  return 'text'
}

function converted(kind: Kind, text: string): unknown {
  // A value that does not convert stays text, so the schema check refuses it and shows what was sent.
  switch (kind) {
    case 'integer':
      return /^-?\d{1,16}$/.test(text) ? Number(text) : text
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text
    case 'boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text
    default:
      return text
  }
}
