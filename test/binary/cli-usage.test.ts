import { beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMMANDS } from '../../src/cli/index'
import { requireBinary, runBinary, startBinary } from '../helpers/binary'
import { TEST_SECRET } from '../helpers/tokens'

beforeAll(() => {
  requireBinary()
})

describe('help', () => {
  for (const command of COMMANDS) {
    test(`ringcast help ${command.name} and ringcast ${command.name} --help print its usage and every flag`, async () => {
      const [viaHelp, viaFlag] = await Promise.all([runBinary(['help', command.name]), runBinary([command.name, '--help'])])
      expect(viaHelp.code).toBe(0)
      expect(viaHelp.stderr).toBe('')
      expect(viaFlag.stdout).toBe(viaHelp.stdout)
      expect(viaHelp.stdout).toStartWith(`Usage: ringcast ${command.name}`)
      for (const flag of command.flags) {
        expect(viaHelp.stdout).toContain(`--${flag.name}`)
        if (flag.env) expect(viaHelp.stdout).toContain(flag.env)
      }
    })
  }

  test('the global help names every command and says how to get a command’s flags', async () => {
    const { code, stdout } = await runBinary(['--help'])
    expect(code).toBe(0)
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command.name}\\b`, 'm'))
    expect(stdout).toContain('ringcast help COMMAND')
    expect(stdout).toContain('RINGCAST_TOKEN')
  })

  test('the README documents every flag and environment variable of every command', () => {
    const readme = readFileSync(join(import.meta.dir, '../../README.md'), 'utf8')
    const names = COMMANDS.flatMap((c) => c.flags.flatMap((f) => [`--${f.name}`, ...(f.env ? [f.env] : [])]))
    const missing = [...new Set(names)].filter((name) => !readme.includes(`\`${name}`))
    expect(missing).toEqual([])
  })
})

describe('a bad command line is one line and exit code 2', () => {
  const rows: [string, string[], RegExp][] = [
    ['an unknown flag of a client command (--type is publish’s, tail takes --types)', ['tail', 'jobs.*', '--type', 'x'], /unknown flag --type for ringcast tail/],
    ['an unknown server flag', ['serve', '--bogus', '1'], /unknown flag --bogus/],
    ['a stray argument to serve', ['serve', 'extra'], /unexpected argument "extra"/],
    ['a stray word after a boolean flag', ['--metrics-public', 'maybe'], /unexpected argument "maybe"/],
    ['a boolean with a value that is not true|false', ['--metrics-public=yes'], /--metrics-public takes true or false/],
    ['a stray argument to publish', ['publish', 'jobs.1', '{}', 'extra'], /unexpected argument "extra"/],
    ['a missing STREAM', ['publish'], /missing STREAM/],
    ['an --after that is not an id', ['tail', 'jobs.*', '--after', 'last'], /--after takes an event id/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['help for an unknown command', ['help', 'frobnicate'], /unknown command "frobnicate"/],
  ]
  for (const [name, args, message] of rows) {
    test(name, async () => {
      const { code, stdout, stderr } = await runBinary(args, { timeoutMs: 4000 })
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(stderr).toMatch(message)
    })
  }
})

describe('a boolean flag takes true|false like every flag', () => {
  const metricsStatus = async (args: string[]) => {
    const server = await startBinary({ args: ['--jwt-secret', TEST_SECRET, ...args] })
    try {
      return (await fetch(`${server.url}/metrics`)).status
    } finally {
      await server.dispose()
    }
  }
  let statuses: Record<string, number>
  beforeAll(async () => {
    const [spaced, alone, equals] = await Promise.all([metricsStatus(['--metrics-public', 'false']), metricsStatus(['--metrics-public']), metricsStatus(['--metrics-public=false'])])
    statuses = { spaced, alone, equals }
  })

  test('--metrics-public false keeps /metrics behind an admin token', () => {
    expect(statuses.spaced).toBe(401)
    expect(statuses.equals).toBe(401)
  })

  test('--metrics-public alone makes it public', () => {
    expect(statuses.alone).toBe(200)
  })
})
