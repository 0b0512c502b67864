import { describe, expect, test } from 'bun:test'
import { BODY_ENCODINGS, negotiate } from '../../src/http/compression'

describe('negotiate: the coding the client weights highest of those offered', () => {
  const rows: [string, string | null, readonly ('zstd' | 'br' | 'gzip')[], string | null][] = [
    ['no header', null, BODY_ENCODINGS, null],
    ['an empty header', '', BODY_ENCODINGS, null],
    ['one coding', 'gzip', BODY_ENCODINGS, 'gzip'],
    ['a browser: all equal, the first offered wins', 'gzip, deflate, br, zstd', BODY_ENCODINGS, 'zstd'],
    ['q-values decide', 'gzip;q=0.9, br;q=0.5', BODY_ENCODINGS, 'gzip'],
    ['q=0 refuses', 'br;q=0, gzip', BODY_ENCODINGS, 'gzip'],
    ['spaces and case', ' GZip ; Q = 0.4 , Br;q=0.3', BODY_ENCODINGS, 'gzip'],
    ['the wildcard stands for anything not named', '*', BODY_ENCODINGS, 'zstd'],
    ['the wildcard, with one refused', 'zstd;q=0, *;q=0.5', BODY_ENCODINGS, 'br'],
    ['identity only', 'identity', BODY_ENCODINGS, null],
    ['nothing offered that is accepted', 'deflate, compress', BODY_ENCODINGS, null],
    ['SSE offers gzip only', 'br, zstd', ['gzip'], null],
    ['a malformed weight counts as 0', 'gzip;q=x', BODY_ENCODINGS, null],
  ]
  test.each(rows)('%s', (_, header, offered, expected) => {
    expect(negotiate(header, offered)).toBe(expected as never)
  })
})
