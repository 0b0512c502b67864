import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { canPublish, canSubscribe, type Grants } from '../../src/auth/grants'
import { contains, matches, patternProblem, streamNameProblem } from '../../src/core/pattern'
import { StreamName } from '../../src/transports/wire'

// Pattern containment (what a subscribe grant allows) and the name/pattern parsers, checked
// against brute force and reference implementations rather than against examples.

/** Every name over {a, b} with 1..4 tokens. */
const NAMES: string[] = (() => {
  const out: string[] = []
  let level = ['a', 'b']
  for (let len = 1; len <= 4; len++) {
    out.push(...level)
    level = level.flatMap((n) => [`${n}.a`, `${n}.b`])
  }
  return out
})()

/**
 * Patterns of 1..3 tokens over {a, b, *} with an optional final `**`. Three tokens at most so that
 * names of up to four tokens decide containment exactly: two patterns of at most k tokens that
 * differ on some name differ on one of at most k + 1 tokens.
 */
const smallPattern = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 0, maxLength: 3 }), fc.boolean())
  .map(([tokens, hasRest]) => (hasRest ? [...tokens, '**'] : tokens).slice(0, 3))
  .filter((tokens) => tokens.length > 0 && tokens.slice(0, -1).every((t) => t !== '**'))
  .map((tokens) => tokens.join('.'))

/** The brute-force meaning of containment: every name `inner` matches, `outer` matches too. */
const containsByBruteForce = (outer: string, inner: string) => NAMES.filter((n) => matches(inner, n)).every((n) => matches(outer, n))

/** A reference `matches`: the pattern as a regular expression. */
function referenceMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split('.')
    .map((t) => (t === '**' ? '[^.]+(?:\\.[^.]+)*' : t === '*' ? '[^.]+' : t.replace(/[-]/g, '\\-')))
    .join('\\.')
  return new RegExp(`^${source}$`).test(name)
}

const TOKEN_CHARS = [...'ABCXYZabcxyz0189_-']
const token = fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength: 64 }).map((cs) => cs.join(''))
const shortToken = fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''))
/** Valid stream names: 1..16 tokens of 1..64 allowed characters, 255 characters at most. */
const validName = fc.oneof(fc.array(token, { minLength: 1, maxLength: 16 }), fc.array(shortToken, { minLength: 1, maxLength: 16 })).map((ts) => ts.join('.')).filter((n) => n.length <= 255)
/** Valid patterns: tokens, `*`, and an optional final `**`. */
const validPattern = fc
  .tuple(fc.array(fc.oneof(shortToken, fc.constant('*')), { minLength: 0, maxLength: 16 }), fc.boolean())
  .map(([ts, hasRest]) => (hasRest ? [...ts, '**'] : ts))
  .filter((ts) => ts.length >= 1 && ts.length <= 16)
  .map((ts) => ts.join('.'))
  .filter((p) => p.length <= 255)

const BAD_CHARS = [' ', '/', '#', '$', '%', '+', ':', '?', '&', '=', '\n', '\t', '\0', 'é', 'ß', '😀', '"', "'", '\\', ',', '~', '!', '@']

/** Puts a forbidden character somewhere into a valid name or pattern. */
const withBadChar = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.constantFrom(...BAD_CHARS), fc.nat()).map(([s, c, at]) => {
    const i = at % (s.length + 1)
    return `${s.slice(0, i)}${c}${s.slice(i)}`
  })

/** Adds an empty token: leading, trailing or doubled dot. */
const withEmptyToken = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.constantFrom('lead', 'trail', 'double')).map(([s, where]) => {
    if (where === 'lead') return `.${s}`
    if (where === 'trail') return `${s}.`
    const dot = s.indexOf('.')
    return dot < 0 ? `${s}..x` : `${s.slice(0, dot)}..${s.slice(dot + 1)}`
  })

const tooLong = fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 256, maxLength: 400 }).map((cs) => {
  // Valid tokens and few of them: only the total length is wrong.
  const s = cs.join('')
  return s.match(/.{1,60}/g)!.join('.')
}).filter((s) => s.length > 255 && s.split('.').length <= 16)
const tooManyTokens = fc.array(shortToken, { minLength: 17, maxLength: 30 }).map((ts) => ts.join('.')).filter((s) => s.length <= 255)
const tokenTooLong = fc.tuple(fc.array(shortToken, { maxLength: 3 }), fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 65, maxLength: 120 })).map(([ts, cs]) => [...ts, cs.join('')].join('.'))
/** `**` with something after it. */
const restNotLast = fc.tuple(fc.array(fc.oneof(shortToken, fc.constant('*')), { maxLength: 5 }), fc.array(fc.oneof(shortToken, fc.constant('*'), fc.constant('**')), { minLength: 1, maxLength: 5 })).map(([before, after]) => [...before, '**', ...after].join('.'))
/** A token that mixes wildcards and characters: `a*`, `*b`, `***`. */
const partialWildcard = fc.tuple(fc.array(shortToken, { maxLength: 3 }), fc.constantFrom('a*', '*b', '***', '*-', 'x**', '**y')).map(([ts, t]) => [...ts, t].join('.'))

const grants = (subscribe: string[], publish: string[] = []): Grants => ({ publish, subscribe, isAdmin: false, subject: 'x', expiresAtMs: null, isTicket: false })

describe('contains (subscribe grants)', () => {
  test('the rows the design names', () => {
    const rows: [string, string, boolean][] = [
      ['team.7.**', 'team.7.job.*', true],
      ['team.7.**', 'team.7.job.1', true],
      ['team.7.**', 'team.7.**', true],
      ['team.7.**', 'team.*.job.1', false],
      ['team.7.**', '**', false],
      ['team.7.**', 'team.7', false],
      ['jobs.*', 'jobs.42', true],
      ['jobs.*', 'jobs.**', false],
      ['**', 'anything.at.*.**', true],
      ['*', '**', false],
    ]
    expect(rows.map(([c, p]) => contains(c, p))).toEqual(rows.map((r) => r[2]))
  })

  test('contains(claim, p) holds exactly when every name p matches is matched by claim (brute force over {a, b}, 1..4 tokens)', () => {
    fc.assert(
      fc.property(smallPattern, smallPattern, (claim, p) => {
        expect(contains(claim, p)).toBe(containsByBruteForce(claim, p))
      }),
      { numRuns: 3000 },
    )
  })

  test('every pair of small patterns, exhaustively', () => {
    const all = fc.sample(smallPattern, 2000)
    const distinct = [...new Set(all)]
    // 3 + 9 + 27 plain ones plus their `**` forms, 3 tokens at most: the sample covers them.
    expect(distinct.length).toBeGreaterThan(50)
    const wrong: string[] = []
    for (const claim of distinct) for (const p of distinct) if (contains(claim, p) !== containsByBruteForce(claim, p)) wrong.push(`${claim} ⊇ ${p}`)
    expect(wrong).toEqual([])
  })

  test('containment is reflexive and transitive, and a claim contains every name it matches', () => {
    fc.assert(
      fc.property(validPattern, (p) => {
        expect(contains(p, p)).toBe(true)
      }),
    )
    fc.assert(
      fc.property(smallPattern, smallPattern, smallPattern, (a, b, c) => {
        if (contains(a, b) && contains(b, c)) expect(contains(a, c)).toBe(true)
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(smallPattern, fc.constantFrom(...NAMES), (claim, name) => {
        expect(contains(claim, name)).toBe(matches(claim, name))
      }),
      { numRuns: 2000 },
    )
  })

  test('canSubscribe is "some grant contains the pattern"; canPublish is "some grant matches the stream"', () => {
    fc.assert(
      fc.property(fc.array(smallPattern, { maxLength: 3 }), smallPattern, fc.constantFrom(...NAMES), (claims, p, name) => {
        const g = grants(claims, claims)
        expect(canSubscribe(g, p)).toBe(claims.some((c) => containsByBruteForce(c, p)))
        expect(canPublish(g, name)).toBe(claims.some((c) => referenceMatches(c, name)))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('matches', () => {
  test('agrees with a regular-expression reference on small names and patterns', () => {
    const name = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 6 }).map((ts) => ts.join('.'))
    const pattern = fc
      .tuple(fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 0, maxLength: 5 }), fc.boolean())
      .map(([ts, hasRest]) => (hasRest ? [...ts, '**'] : ts))
      .filter((ts) => ts.length > 0)
      .map((ts) => ts.join('.'))
    fc.assert(
      fc.property(pattern, name, (p, n) => {
        expect(matches(p, n)).toBe(referenceMatches(p, n))
      }),
      { numRuns: 5000 },
    )
  })

  test('agrees with the reference on realistic names and patterns', () => {
    fc.assert(
      fc.property(validPattern, validName, (p, n) => {
        expect(matches(p, n)).toBe(referenceMatches(p, n))
      }),
      { numRuns: 2000 },
    )
    // A pattern built from a name (some tokens turned into wildcards) always matches it.
    fc.assert(
      fc.property(validName, fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), fc.boolean(), (n, stars, rest) => {
        const ts = n.split('.').map((t, i) => (stars[i] ? '*' : t))
        if (rest && ts.length > 1) ts.splice(ts.length - 1, 1, '**')
        const p = ts.join('.')
        expect(matches(p, n)).toBe(true)
        expect(referenceMatches(p, n)).toBe(true)
      }),
    )
  })
})

describe('name and pattern parsers', () => {
  const wireName = new RegExp(StreamName.pattern as string)

  test('every generated valid name is accepted as a name and as a pattern, and agrees with the wire schema', () => {
    fc.assert(
      fc.property(validName, (n) => {
        expect(streamNameProblem(n)).toBeNull()
        expect(patternProblem(n)).toBeNull()
        expect(wireName.test(n)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  test('every generated valid pattern is accepted as a pattern; as a name exactly when it has no wildcard', () => {
    fc.assert(
      fc.property(validPattern, (p) => {
        expect(patternProblem(p)).toBeNull()
        expect(streamNameProblem(p) === null).toBe(!p.includes('*'))
      }),
      { numRuns: 2000 },
    )
  })

  const invalid: [string, fc.Arbitrary<string>, 'both' | 'name'][] = [
    ['a forbidden character in a name', withBadChar(validName), 'both'],
    ['a forbidden character in a pattern', withBadChar(validPattern), 'both'],
    ['an empty token in a name', withEmptyToken(validName), 'both'],
    ['an empty token in a pattern', withEmptyToken(validPattern), 'both'],
    ['more than 255 characters', tooLong, 'both'],
    ['more than 16 tokens', tooManyTokens, 'both'],
    ['a token longer than 64 characters', tokenTooLong, 'both'],
    ['"**" not last', restNotLast, 'both'],
    ['a token mixing "*" with characters', partialWildcard, 'both'],
    ['a wildcard in a stream name', validPattern.filter((p) => p.includes('*')), 'name'],
  ]
  for (const [name, arbitrary, which] of invalid) {
    test(`rejects ${name}`, () => {
      fc.assert(
        fc.property(arbitrary, (s) => {
          expect(streamNameProblem(s)).not.toBeNull()
          expect(wireName.test(s) && s.length <= 255).toBe(false)
          if (which === 'both') expect(patternProblem(s)).not.toBeNull()
        }),
        { numRuns: 500 },
      )
    })
  }

  test('the parser and the wire schema agree on arbitrary strings', () => {
    const anything = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: fc.constantFrom('a', 'B', '7', '_', '-', '.', '*', ' ', 'é'), maxLength: 80 }),
      validName,
      withBadChar(validName),
      withEmptyToken(validName),
    )
    fc.assert(
      fc.property(anything, (s) => {
        expect(streamNameProblem(s) === null).toBe(wireName.test(s) && s.length <= 255)
      }),
      { numRuns: 3000 },
    )
  })

  test('empty, lone dots and the boundaries', () => {
    const t64 = 'x'.repeat(64)
    const rows: [string, boolean, boolean][] = [
      ['', false, false],
      ['.', false, false],
      ['*', false, true],
      ['**', false, true],
      ['a.**', false, true],
      ['**.a', false, false],
      [t64, true, true],
      [`${t64}x`, false, false],
      [Array(16).fill('a').join('.'), true, true],
      [Array(17).fill('a').join('.'), false, false],
      [[t64, t64, t64, 'x'.repeat(60)].join('.'), true, true], // exactly 255
      [[t64, t64, t64, 'x'.repeat(61)].join('.'), false, false], // 256
    ]
    expect(rows.map(([s]) => [streamNameProblem(s) === null, patternProblem(s) === null])).toEqual(rows.map(([, n, p]) => [n, p]))
  })
})
