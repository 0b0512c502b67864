import { describe, expect, test } from 'bun:test'
import { RingcastError } from '../../src/core/errors'
import { filterOf } from '../../src/http/params'

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    return (e as RingcastError).code
  }
  return undefined
}

describe('filterOf', () => {
  test('answers the same filter for the same request values', () => {
    expect(filterOf(['jobs.1'], ['a'])).toBe(filterOf(['jobs.1'], ['a']))
    expect(filterOf(['jobs.1'], ['a'])).not.toBe(filterOf(['jobs.1'], ['b']))
    expect(filterOf(['jobs.1'])).not.toBe(filterOf(['jobs.1'], undefined, 'c-1'))
  })

  // The cache is looked up before validation: no invalid input may share a key with a valid, cached one.
  test.each([
    ['two names vs one with a newline', ['a', 'b'], ['a\nb']],
    ['two names vs one with a separator-like character', ['a', 'b'], ['a#b']],
    ['a name vs the same with a length-like prefix', ['ab'], ['1:a', 'b']],
  ])('%s stay apart', (_, valid, invalid) => {
    expect(filterOf(valid).patterns).toEqual([...valid].sort())
    expect(codeOf(() => filterOf(invalid))).toBe('bad_pattern')
  })

  test('a one-pattern filter is kept too, and a bad one is refused every time', () => {
    expect(filterOf(['jobs.7'])).toBe(filterOf(['jobs.7']))
    expect(filterOf(['jobs.7']).patterns).toEqual(['jobs.7'])
    expect(filterOf(['jobs.7', 'jobs.8'])).not.toBe(filterOf(['jobs.7']))
    expect(codeOf(() => filterOf(['jobs..7']))).toBe('bad_pattern')
    expect(codeOf(() => filterOf(['jobs..7']))).toBe('bad_pattern')
  })

  test('types and correlation ids are part of the key', () => {
    const plain = filterOf(['jobs.*'])
    expect(filterOf(['jobs.*'], ['x']).types).toEqual(new Set(['x']))
    expect(filterOf(['jobs.*'], undefined, 'x').correlationId).toBe('x')
    expect(plain.types).toBeNull()
  })
})
