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
  // A field's `key` is the schema's own string: a property name read from the URL would be interned on every
  // access to `query`, which cost more than the rest of the parse.
  const fields = new Map<string, { key: string; kind: Kind }>()
  for (const [key, property] of Object.entries(schema.properties)) fields.set(key, { key, kind: kindOf(property) })
  // Every query starts from the same shape (optional keys unset), so reads and the check stay on one fast path.
  const required = new Set(schema.required ?? [])
  const blank = Object.fromEntries([...fields.keys()].filter((key) => !required.has(key)).map((key) => [key, undefined]))
  const assign = (query: Record<string, unknown>, name: string, value: string) => {
    const field = fields.get(name)
    if (field === undefined) return
    const { key, kind } = field
    if (kind === 'list') {
      const list = (query[key] ??= []) as string[]
      for (const part of value.split(',')) if (part.trim() !== '') list.push(part.trim())
      return
    }
    if (query[key] !== undefined) throw new RingcastError('invalid_request', `${key} is given more than once.`, 'Give each parameter once (only stream and types may repeat).')
    query[key] = converted(kind, value)
  }
  return (url) => {
    const at = url.indexOf('?')
    const query: Record<string, unknown> = { ...blank }
    if (at >= 0) eachPair(url.slice(at + 1), (name, value) => assign(query, name, value))
    if (!check.Check(query)) throw invalid(check.Errors(query).First())
    return query as Static<S>
  }
}

/** Calls `take` with each key=value pair as URLSearchParams reads them; the common unescaped query is walked by hand, which costs a fraction. */
function eachPair(query: string, take: (name: string, value: string) => void): void {
  if (query.includes('%') || query.includes('+')) {
    for (const [name, value] of new URLSearchParams(query)) take(name, value)
    return
  }
  // The next `=` is looked for again only once passed, so a long query is read in one sweep.
  let eq = query.indexOf('=')
  for (let start = 0; start < query.length; ) {
    let end = query.indexOf('&', start)
    if (end < 0) end = query.length
    if (eq !== -1 && eq < start) eq = query.indexOf('=', start)
    const hasValue = eq !== -1 && eq < end
    if (end > start) take(query.slice(start, hasValue ? eq : end), hasValue ? query.slice(eq + 1, end) : '')
    start = end + 1
  }
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
