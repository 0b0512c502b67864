import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { NameIndex } from '../../src/core/name-index'
import { matches } from '../../src/core/pattern'
import { PatternIndex } from '../../src/core/pattern-index'

// Both indexes must agree with matches(), the rule they stand in for.

const token = fc.constantFrom('a', 'b', 'c', 'jobs', '7')
const name = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'))
const pattern = fc
  .tuple(fc.array(fc.oneof(token, fc.constant('*')), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([tokens, rest]) => (rest ? [...tokens.slice(0, 3), '**'] : tokens).join('.'))

function matchedBy(index: PatternIndex<string>, stream: string): string[] {
  const out = new Set<string>()
  index.match(stream, (v) => out.add(v))
  return [...out].sort()
}

describe('PatternIndex', () => {
  test.each([
    ['jobs.*', 'jobs.42', true],
    ['jobs.*', 'jobs.42.x', false],
    ['jobs.**', 'jobs.42.x', true],
    ['jobs.**', 'jobs', false],
    ['*.42', 'jobs.42', true],
    ['**', 'a', true],
    ['jobs.42', 'jobs.42', true],
    ['jobs.42', 'jobs.43', false],
  ])('%s against %s: %s', (p, n, expected) => {
    const index = new PatternIndex<string>()
    index.add(p, p)
    expect(matchedBy(index, n)).toEqual(expected ? [p] : [])
  })

  test('finds exactly the values whose patterns match, for any patterns and names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { maxLength: 30 }), fc.array(name, { maxLength: 10 }), (patterns, names) => {
        const index = new PatternIndex<string>()
        for (const p of patterns) index.add(p, p)
        for (const n of names) expect(matchedBy(index, n)).toEqual(patterns.filter((p) => matches(p, n)).sort())
      }),
    )
  })

  test('delete removes a value from under one pattern only, and empties the index', () => {
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { minLength: 1, maxLength: 20 }), name, (patterns, n) => {
        const index = new PatternIndex<string>()
        for (const p of patterns) {
          index.add(p, 'v')
          index.add(p, p)
        }
        const [gone, ...kept] = patterns
        index.delete(gone, gone)
        expect(matchedBy(index, n).filter((v) => v !== 'v')).toEqual(kept.filter((p) => matches(p, n)).sort())
        for (const p of patterns) index.delete(p, 'v')
        for (const p of kept) index.delete(p, p)
        expect(index.size).toBe(0)
        expect(matchedBy(index, n)).toEqual([])
      }),
    )
  })
})

describe('NameIndex', () => {
  test('selects exactly the names a pattern matches, and forgets deleted names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 40 }), pattern, (names, p) => {
        const index = new NameIndex<string>()
        for (const n of names) index.set(n, n)
        expect(index.size).toBe(names.length)
        expect(index.select(p).sort()).toEqual(names.filter((n) => matches(p, n)).sort())
        for (const n of names.slice(0, names.length / 2)) index.delete(n)
        const left = names.slice(names.length / 2)
        expect(index.select(p).sort()).toEqual(left.filter((n) => matches(p, n)).sort())
      }),
    )
  })
})
