import { describe, expect, test } from 'bun:test'
import { RingcastError } from '../../src/core/errors'
import { assertPattern, assertStreamName, contains, matches, patternProblem, streamNameProblem } from '../../src/core/pattern'

const tok64 = 'a'.repeat(64)
const tok65 = 'a'.repeat(65)
const tokens = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`).join('.')
// 16 tokens of 15 chars + 15 dots = 255; one more char goes past.
const len255 = Array.from({ length: 16 }, () => 'b'.repeat(15)).join('.')
const len256 = `${len255}x`

describe('stream names', () => {
  const valid: [string, string][] = [
    ['one token', 'jobs'],
    ['two tokens', 'jobs.42'],
    ['every token character', 'Az09_-.x'],
    ['hyphenated tokens', 'packs.build-x.run.3'],
    ['64-character token', tok64],
    ['16 tokens', tokens(16)],
    ['255 characters', len255],
  ]
  const invalid: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['empty token in the middle', 'a..b', /token ""/],
    ['leading dot', '.a', /token ""/],
    ['trailing dot', 'a.', /token ""/],
    ['65-character token', tok65, /1–64/],
    ['17 tokens', tokens(17), /more than 16 tokens/],
    ['256 characters', len256, /longer than 255/],
    ['space', 'a b', /token "a b"/],
    ['slash', 'a/b', /token/],
    ['star', 'jobs.*', /token "\*"/],
    ['double star', 'jobs.**', /token "\*\*"/],
    ['non-ASCII letter', 'jöbs', /token/],
    ['trailing newline', 'jobs\n', /token "jobs\n"/],
  ]

  test.each(valid)('%s is valid', (_, name) => {
    expect(streamNameProblem(name)).toBeNull()
    expect(assertStreamName(name)).toBe(name)
  })

  test.each(invalid)('%s is invalid', (_, name, reason) => {
    expect(streamNameProblem(name)).toMatch(reason)
    let error: unknown
    try {
      assertStreamName(name)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RingcastError)
    expect((error as RingcastError).code).toBe('bad_name')
    expect((error as RingcastError).hint).toBeTruthy()
  })

  test('the length rows sit exactly on the 255-character bound', () => {
    expect(len255.length).toBe(255)
    expect(len256.length).toBe(256)
  })
})

describe('patterns', () => {
  const valid: [string, string][] = [
    ['plain name', 'jobs.42'],
    ['single star', 'jobs.*'],
    ['star first', '*.status'],
    ['star only', '*'],
    ['double star last', 'team.7.**'],
    ['double star only', '**'],
    ['stars then double star', '*.*.**'],
    ['16 tokens with wildcards', `${tokens(15)}.**`],
  ]
  const invalid: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['double star not last', 'a.**.b', /may only be the last/],
    ['double star first of two', '**.a', /may only be the last/],
    ['empty token', 'a..*', /token ""/],
    ['partial star', 'jobs.4*', /token "4\*"/],
    ['triple star', 'a.***', /token "\*\*\*"/],
    ['17 tokens', `${tokens(16)}.*`, /more than 16 tokens/],
    ['256 characters', len256, /longer than 255/],
    ['65-character token', `${tok65}.*`, /1–64/],
  ]

  test.each(valid)('%s is valid', (_, pattern) => {
    expect(patternProblem(pattern)).toBeNull()
    expect(assertPattern(pattern)).toBe(pattern)
  })

  test.each(invalid)('%s is invalid', (_, pattern, reason) => {
    expect(patternProblem(pattern)).toMatch(reason)
    expect(() => assertPattern(pattern)).toThrow(RingcastError)
    try {
      assertPattern(pattern)
    } catch (e) {
      expect((e as RingcastError).code).toBe('bad_pattern')
    }
  })
})

describe('matches', () => {
  const rows: [string, string, string, boolean][] = [
    ['exact name', 'jobs.42', 'jobs.42', true],
    ['exact name, other stream', 'jobs.42', 'jobs.43', false],
    ['exact name is not a prefix', 'jobs', 'jobs.42', false],
    ['star matches one token', 'jobs.*', 'jobs.42', true],
    ['star needs a token', 'jobs.*', 'jobs', false],
    ['star matches exactly one token', 'jobs.*', 'jobs.42.status', false],
    ['star in the middle', 'team.*.status', 'team.7.status', true],
    ['star in the middle, wrong tail', 'team.*.status', 'team.7.log', false],
    ['double star matches one token', 'team.7.**', 'team.7.job', true],
    ['double star matches many tokens', 'team.7.**', 'team.7.job.42.status', true],
    ['double star needs at least one token', 'team.7.**', 'team.7', false],
    ['double star with a different prefix', 'team.7.**', 'team.8.job', false],
    ['bare double star matches anything', '**', 'a.b.c', true],
    ['bare star matches one-token names', '*', 'jobs', true],
    ['bare star refuses two tokens', '*', 'jobs.1', false],
    ['star then double star', '*.job.**', 'team.job.1.2', true],
    ['tokens are case-sensitive', 'Jobs.*', 'jobs.1', false],
  ]
  test.each(rows)('%s: %s ~ %s', (_, pattern, name, expected) => {
    expect(matches(pattern, name)).toBe(expected)
  })
})

describe('contains', () => {
  const rows: [string, string, string, boolean][] = [
    ['double star contains a star pattern below it', 'team.7.**', 'team.7.job.*', true],
    ['double star contains a name below it', 'team.7.**', 'team.7.job.1', true],
    ['double star contains a deeper double star', 'team.7.**', 'team.7.job.**', true],
    ['double star contains itself', 'team.7.**', 'team.7.**', true],
    ['double star refuses a star above its prefix', 'team.7.**', 'team.*.job.1', false],
    ['double star refuses the bare double star', 'team.7.**', '**', false],
    ['double star refuses its own prefix', 'team.7.**', 'team.7', false],
    ['double star refuses a sibling', 'team.7.**', 'team.8.job.1', false],
    ['star contains a name', 'jobs.*', 'jobs.42', true],
    ['star contains a star', 'jobs.*', 'jobs.*', true],
    ['star refuses a double star', 'jobs.*', 'jobs.**', false],
    ['star refuses a deeper name', 'jobs.*', 'jobs.42.status', false],
    ['name contains itself', 'jobs.42', 'jobs.42', true],
    ['name refuses a star', 'jobs.42', 'jobs.*', false],
    ['name refuses another name', 'jobs.42', 'jobs.43', false],
    ['bare double star contains everything', '**', 'team.*.job.1', true],
    ['bare double star contains itself', '**', '**', true],
  ]
  test.each(rows)('%s: %s ⊇ %s', (_, outer, inner, expected) => {
    expect(contains(outer, inner)).toBe(expected)
  })
})
