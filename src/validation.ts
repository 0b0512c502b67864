import type { TSchema } from '@sinclair/typebox'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors'
import { type ErrorCode, RingcastError } from './core/errors'

// Every refusal of a value that fails a schema (query, body, WebSocket frame) is worded here, once.

/** Where a value sits: `prefix` goes before its path (`[2]` for a batch item), `root` names the whole value. */
export interface Place {
  prefix?: string
  root?: string
}

/** One sentence naming the value, what it must be and what was received, e.g. `limit must be 1–1000, got 1001`. */
export function explain(error: ValueError, place: Place = {}): string {
  const name = nameOf(error.path, place)
  if (error.type === ValueErrorType.ObjectRequiredProperty) return `${name} is required`
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const known = Object.keys(error.schema.properties ?? {})
    return `${name} is not a known field${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`
  }
  return `${name} must be ${expectation(error.schema, error.value)}, got ${shown(error.value)}`
}

/** A RingcastError carrying `explain(error)` as its message. */
export function invalid(error: ValueError | undefined, options: Place & { code?: ErrorCode; hint?: string } = {}): RingcastError {
  const message = error ? explain(error, options) : `${options.root ?? 'the value'} does not match the schema`
  return new RingcastError(options.code ?? 'invalid_request', `${message}.`, options.hint ?? 'See /docs for what each route accepts.')
}

function nameOf(path: string, { prefix = '', root = 'the value' }: Place): string {
  // JSON pointer to a readable accessor: /ids/3 → ids[3], /0/type → [0].type
  let name = prefix
  for (const part of path.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~')
    name += /^\d+$/.test(key) ? `[${key}]` : name === '' ? key : `.${key}`
  }
  return name === '' ? root : name
}

function expectation(schema: TSchema, value: unknown): string {
  if (typeof schema.title === 'string' && schema.pattern !== undefined && typeof value === 'string') return schema.title
  if (schema.anyOf) return oneOf(schema.anyOf as TSchema[])
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const range = rangeOf(schema.minimum, schema.maximum, '')
      const isRightType = typeof value === 'number' && (schema.type === 'number' || Number.isInteger(value))
      if (isRightType && range) return range
      return `${schema.type === 'integer' ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}`
    }
    case 'string': {
      if (typeof value !== 'string') return 'a string'
      const length = rangeOf(schema.minLength, schema.maxLength, ' characters')
      if (length && (value.length < (schema.minLength ?? 0) || value.length > (schema.maxLength ?? Infinity))) return length
      if (schema.format) return `a ${schema.format}`
      if (schema.pattern) return `a string matching ${schema.pattern}`
      return length || 'a string'
    }
    case 'boolean':
      return 'true or false'
    case 'array': {
      if (!Array.isArray(value)) return 'a list'
      return rangeOf(schema.minItems, schema.maxItems, ' items') || 'a list'
    }
    case 'object':
      return 'an object'
    case 'null':
      return 'null'
    default:
      return 'a valid value'
  }
}

function oneOf(options: TSchema[]): string {
  const consts = options.filter((o) => o.const !== undefined)
  if (consts.length === options.length) return `one of ${consts.map((o) => String(o.const)).join(', ')}`
  return options.map((o) => (o.const !== undefined ? JSON.stringify(o.const) : expectation(o, undefined))).join(' or ')
}

function rangeOf(min: number | undefined, max: number | undefined, unit: string): string {
  if (min !== undefined && max !== undefined) return min === max ? `${min}${unit}` : `${min}–${max}${unit}`
  if (min !== undefined) return min === 1 && unit ? `at least 1${unit.replace(/s$/, '')}` : `≥ ${min}${unit}`
  if (max !== undefined) return `at most ${max}${unit}`
  return ''
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') {
    if (value.length > 40) return `${value.length} characters`
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`
  if (value === null || typeof value !== 'object') return String(value)
  return 'an object'
}
