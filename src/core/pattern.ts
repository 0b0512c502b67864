import { RingcastError } from './errors'

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/
const MAX_TOKENS = 16
const MAX_LENGTH = 255
const VALID_NAME = /^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,15}$/

/** Why `name` is not a valid stream name, or null when it is. */
export function streamNameProblem(name: string): string | null {
  if (name.length <= MAX_LENGTH && VALID_NAME.test(name)) return null
  if (name.length === 0) return 'stream name is empty'
  if (name.length > MAX_LENGTH) return `stream name is longer than ${MAX_LENGTH} characters`
  const tokens = name.split('.')
  if (tokens.length > MAX_TOKENS) return `stream name has more than ${MAX_TOKENS} tokens`
  for (const token of tokens) {
    if (!TOKEN.test(token)) return `token "${token}" is not 1–64 characters of [A-Za-z0-9_-]`
  }
  return null
}

/** Why `pattern` is not a valid pattern, or null when it is. `*` is one token; `**` one or more, last only. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'pattern is empty'
  if (pattern.length > MAX_LENGTH) return `pattern is longer than ${MAX_LENGTH} characters`
  const tokens = pattern.split('.')
  if (tokens.length > MAX_TOKENS) return `pattern has more than ${MAX_TOKENS} tokens`
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token === '*') continue
    if (token === '**') {
      if (i !== tokens.length - 1) return '"**" may only be the last token'
      continue
    }
    if (!TOKEN.test(token)) return `token "${token}" is not 1–64 characters of [A-Za-z0-9_-], "*" or "**"`
  }
  return null
}

/** Throws bad_name unless `name` is a valid stream name. */
export function assertStreamName(name: string): string {
  const problem = streamNameProblem(name)
  if (problem) throw new RingcastError('bad_name', `Invalid stream name "${truncate(name)}": ${problem}.`, 'Use dot-separated tokens such as jobs.42.')
  return name
}

/** Throws bad_pattern unless `pattern` is a valid pattern. */
export function assertPattern(pattern: string): string {
  const problem = patternProblem(pattern)
  if (problem) throw new RingcastError('bad_pattern', `Invalid pattern "${truncate(pattern)}": ${problem}.`, 'Use stream names, "*" for one token and a final "**" for the rest, e.g. jobs.* or team.7.**.')
  return pattern
}

export function isWildcard(pattern: string): boolean {
  return pattern.includes('*')
}

/** Whether stream `name` matches `pattern`; both must already be valid. */
export function matches(pattern: string, name: string): boolean {
  // Every valid name has a token: what an open server and most publish grants say, without splitting either.
  if (pattern === '**') return true
  if (!isWildcard(pattern)) return pattern === name
  return matchesTokens(pattern.split('.'), name.split('.'))
}

/** `matches` on names and patterns already split into tokens. */
export function matchesTokens(p: readonly string[], n: readonly string[]): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '**') return n.length > i
    if (i >= n.length) return false
    if (p[i] !== '*' && p[i] !== n[i]) return false
  }
  return p.length === n.length
}

/** Whether every name `inner` matches is also matched by `outer`. */
export function contains(outer: string, inner: string): boolean {
  if (outer === '**') return true
  const o = outer.split('.')
  const i = inner.split('.')
  for (let k = 0; k < o.length; k++) {
    if (o[k] === '**') return i.length > k
    if (k >= i.length) return false
    if (i[k] === '**') return false
    if (o[k] !== '*' && o[k] !== i[k]) return false
  }
  return o.length === i.length
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
