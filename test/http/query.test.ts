import { expect, test } from 'bun:test'
import { Type as T } from '@sinclair/typebox'
import { queryReader } from '../../src/http/query'

const read = queryReader(T.Object({ a: T.Optional(T.String()), b: T.Optional(T.String()), n: T.Optional(T.Integer()), list: T.Optional(T.Array(T.String())) }))

/** What the reader should give, from URLSearchParams (the reference for every query without escapes). */
function expected(query: string): Record<string, unknown> | 'refused' {
  const out: Record<string, unknown> = { a: undefined, b: undefined, n: undefined, list: undefined }
  for (const [key, value] of new URLSearchParams(query)) {
    if (!(key in out)) continue
    if (key === 'list') {
      out.list = [...((out.list as string[]) ?? []), ...value.split(',').map((p) => p.trim()).filter((p) => p !== '')]
      continue
    }
    if (out[key] !== undefined) return 'refused'
    out[key] = key === 'n' ? (/^-?\d{1,16}$/.test(value) ? Number(value) : 'refused') : value
  }
  return Object.values(out).includes('refused') ? 'refused' : out
}

function actual(query: string): Record<string, unknown> | 'refused' {
  try {
    return { ...read(`http://h/p?${query}`) }
  } catch {
    return 'refused'
  }
}

test('a query is read as URLSearchParams reads it: empty pairs, bare keys, = in values, repeats, lists', () => {
  const queries = ['', 'a=1', 'a=1&&b', '&a=1&', '=x&a=2', 'a', 'a=', 'a=1=2&b=3', 'a=1&a=2', 'list=x,y&list=z', 'list=,&list= x ', 'n=42&b=q', 'n=4x', 'zz=1&a=&b']
  for (const q of queries) expect({ q, got: actual(q) }).toEqual({ q, got: expected(q) })
})

test('random queries over = & , and a few letters read the same as URLSearchParams', () => {
  const alphabet = ['a', 'b', 'n', 'list', '=', '&', ',', '1', 'x', ' ']
  let seed = 7
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length
  for (let i = 0; i < 2000; i++) {
    const q = Array.from({ length: 1 + (i % 12) }, () => alphabet[next()]).join('')
    expect({ q, got: actual(q) }).toEqual({ q, got: expected(q) })
  }
})

test('a long query of bare keys before the one pair with a value', () => {
  const q = `${'k&'.repeat(20_000)}a=1`
  expect(actual(q)).toEqual({ a: '1', b: undefined, n: undefined, list: undefined })
})
