import { describe, expect, test } from 'bun:test'
import { type FlagSpec, parseArgs } from '../../src/cli/args'
import { UsageError } from '../../src/cli/errors'

const SPECS: FlagSpec[] = [
  { name: 'url', kind: 'value', help: '' },
  { name: 'admin', kind: 'boolean', help: '' },
  { name: 'publish', kind: 'list', help: '' },
]
const parse = (argv: string[], maxWords = 1) => parseArgs(argv, SPECS, 'test', maxWords)

function usageError(argv: string[], maxWords = 1): string {
  try {
    parse(argv, maxWords)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`)
}

describe('parseArgs', () => {
  const rows: [string, string[], Record<string, string>, string[]][] = [
    ['a value flag, space-separated', ['--url', 'http://x'], { url: 'http://x' }, []],
    ['a value flag with =', ['--url=http://x'], { url: 'http://x' }, []],
    ['a boolean alone is true', ['--admin'], { admin: 'true' }, []],
    ['a boolean takes false like any value', ['--admin', 'false'], { admin: 'false' }, []],
    ['a boolean takes true', ['--admin', 'true'], { admin: 'true' }, []],
    ['a boolean with =false', ['--admin=false'], { admin: 'false' }, []],
    ['a boolean does not swallow a word that is not true|false', ['--admin', 'jobs.1'], { admin: 'true' }, ['jobs.1']],
    ['the last of a repeated value wins', ['--url', 'a', '--url', 'b'], { url: 'b' }, []],
    ['after --, a word may start with --', ['--', '--not-a-flag'], {}, ['--not-a-flag']],
  ]
  for (const [name, argv, flags, words] of rows) {
    test(name, () => {
      const parsed = parse(argv)
      expect(parsed.flags).toEqual(flags)
      expect(parsed.words).toEqual(words)
    })
  }

  test('a list flag keeps every value in order', () => {
    expect(parse(['--publish', 'a.*', '--publish=b.**']).lists.publish).toEqual(['a.*', 'b.**'])
  })

  const refused: [string, string[], RegExp][] = [
    ['an unknown flag, named', ['--type', 'x'], /^unknown flag --type for ringcast test/],
    ['a stray argument, named', ['a', 'b'], /^unexpected argument "b"/],
    ['a value flag with nothing after it', ['--url'], /^--url needs a value/],
    ['a value flag followed by another flag', ['--url', '--admin'], /^--url needs a value/],
    ['a boolean with a value that is not true|false', ['--admin=yes'], /^--admin takes true or false, not "yes"/],
  ]
  for (const [name, argv, message] of refused) {
    test(`refuses ${name}`, () => {
      expect(usageError(argv)).toMatch(message)
    })
  }

  test('every message points at the command help', () => {
    expect(usageError(['--nope'])).toContain('(see ringcast help test)')
  })
})
