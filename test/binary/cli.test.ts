import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type BinaryServer, exportNdjson, post, requireBinary, type RunResult, runBinary, spawnBinary, startBinary, tempDir, waitSubscribed } from '../helpers/binary'

beforeAll(() => {
  requireBinary()
})

describe('ringcast --help', () => {
  test('exits 0 and lists the commands and the server flags', async () => {
    const { code, stdout, stderr } = await runBinary(['--help'])
    expect(code).toBe(0)
    expect(stderr).toBe('')
    for (const command of ['serve', 'publish', 'tail', 'export']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'))
    for (const flag of ['--port', '--data', '--durability', '--retention-age', '--cors-origin']) expect(stdout).toContain(flag)
  })

  test('`help` as a command prints the same text', async () => {
    const [a, b] = await Promise.all([runBinary(['help']), runBinary(['--help'])])
    expect(a.code).toBe(0)
    expect(a.stdout).toBe(b.stdout)
  })
})

describe('invalid settings stop start-up with one line naming the setting', () => {
  let dir: string
  beforeAll(() => {
    dir = tempDir()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const cases: { name: string; args: string[]; env?: Record<string, string>; names: RegExp }[] = [
    { name: '--port abc', args: ['--port', 'abc'], names: /--port/ },
    { name: '--port 70000', args: ['--port', '70000'], names: /--port/ },
    { name: '--bogus 1', args: ['--bogus', '1'], names: /--bogus/ },
    { name: 'RINGCAST_DURABILITY=x', args: [], env: { RINGCAST_DURABILITY: 'x' }, names: /RINGCAST_DURABILITY/ },
    { name: '--retention-age 0', args: ['--retention-age', '0'], names: /--retention-age/ },
    { name: '--durability fast', args: ['--durability', 'fast'], names: /--durability/ },
    { name: 'RINGCAST_PORT=-1', args: [], env: { RINGCAST_PORT: '-1' }, names: /RINGCAST_PORT/ },
    { name: '--idle-timeout 0', args: ['--idle-timeout', '0'], names: /--idle-timeout/ },
    { name: 'RINGCAST_IDLE_TIMEOUT=soon', args: [], env: { RINGCAST_IDLE_TIMEOUT: 'soon' }, names: /RINGCAST_IDLE_TIMEOUT/ },
    { name: '--compression gzip', args: ['--compression', 'gzip'], names: /--compression/ },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      const data = join(dir, `${c.name.replace(/\W+/g, '_')}.db`)
      // A valid port of its own (unless the case sets one), so a failure can only come from the setting under test.
      const setsPort = c.args.includes('--port') || c.env?.RINGCAST_PORT !== undefined
      expectRefusedInOneLine(await runBinary(['serve', '--data', data, ...(setsPort ? [] : ['--port', '0']), ...c.args], { env: c.env, timeoutMs: 4000 }), c.names)
    })
  }

  const bad: { name: string; setup: () => string[]; names: RegExp }[] = [
    {
      name: '--data pointing at a file that is not a database',
      setup: () => {
        const file = join(dir, 'garbage.db')
        writeFileSync(file, 'this is not an SQLite database, only text that is long enough to fill a header page\n'.repeat(20))
        return ['--data', file]
      },
      names: /--data/,
    },
    { name: '--data in a directory that cannot be created', setup: () => ['--data', '/proc/self/nope/ringcast.db'], names: /--data/ },
    {
      name: '--config file that is not JSON',
      setup: () => {
        const file = join(dir, 'bad-config.json')
        writeFileSync(file, '{ not json')
        return ['--config', file, '--data', join(dir, 'cfg.db')]
      },
      names: /bad-config\.json/,
    },
    {
      name: '--config file with a bad value',
      setup: () => {
        const file = join(dir, 'bad-value.json')
        writeFileSync(file, JSON.stringify({ retentionEvents: 0 }))
        return ['--config', file, '--data', join(dir, 'cfg2.db')]
      },
      names: /retentionEvents/,
    },
    { name: '--config file that does not exist', setup: () => ['--config', join(dir, 'missing.json'), '--data', join(dir, 'cfg3.db')], names: /missing\.json/ },
  ]
  for (const c of bad) {
    test(c.name, async () => {
      expectRefusedInOneLine(await runBinary(['serve', '--port', '0', ...c.setup()], { timeoutMs: 4000 }), c.names)
    })
  }

  test('an unknown command exits non-zero with one line', async () => {
    const { code, stderr } = await runBinary(['frobnicate'])
    expect(code).not.toBe(0)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain('frobnicate')
  })
})

describe('client commands against a running binary', () => {
  let server: BinaryServer
  beforeAll(async () => {
    server = await startBinary()
  })
  afterAll(async () => {
    await server?.dispose()
  })

  test('publish prints the stored event and it is stored', async () => {
    const { code, stdout, stderr } = await runBinary(['publish', 'jobs.1', '{"a":1}', '--url', server.url, '--type', 'step'])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const printed = JSON.parse(stdout)
    const event = Array.isArray(printed) ? printed[0] : printed
    expect(event).toMatchObject({ stream: 'jobs.1', type: 'step', data: { a: 1 } })
    expect(event.id).toBeGreaterThan(0)
    const page = (await (await fetch(`${server.url}/v1/streams/jobs.1/events?after=0`)).json()) as any
    expect(page.events.map((e: any) => e.id)).toContain(event.id)
  })

  test('publish of text that is not JSON stores a string', async () => {
    const { code, stdout } = await runBinary(['publish', 'jobs.2', 'hello world', '--url', server.url])
    expect(code).toBe(0)
    const printed = JSON.parse(stdout)
    const event = Array.isArray(printed) ? printed[0] : printed
    expect(event).toMatchObject({ stream: 'jobs.2', type: 'message', data: 'hello world' })
  })

  test('publish with NDJSON on stdin stores every line', async () => {
    const { code } = await runBinary(['publish', 'jobs.3', '--url', server.url], { stdin: '{"data":{"n":1}}\n{"data":{"n":2}}\n' })
    expect(code).toBe(0)
    const events = await exportNdjson(server.url, ['jobs.3'])
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }])
  })

  test('publish with a line of stdin that is not JSON publishes nothing and names the line', async () => {
    const { code, stdout, stderr } = await runBinary(['publish', 'jobs.4', '--url', server.url], { stdin: '{"data":1}\n{oops}\n' })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toStartWith('ringcast: line 2 of stdin is not JSON (')
    expect(stderr).toEndWith('); nothing was published\n')
    expect((await fetch(`${server.url}/v1/streams/jobs.4`)).status).toBe(404)
  })

  test('publish to a bad stream name exits non-zero with the server’s reason', async () => {
    const { code, stderr } = await runBinary(['publish', 'bad..name', '{}', '--url', server.url])
    expect(code).not.toBe(0)
    expect(stderr).toMatch(/^ringcast: 4\d\d /)
  })

  test('export jobs.* prints every retained event as NDJSON, in id order', async () => {
    const a = await post(server.url, 'exp.1', [{ data: { k: 1 } }, { data: { k: 2 } }])
    const b = await post(server.url, 'exp.2', { type: 't', data: { k: 3 } })
    await post(server.url, 'other.1', { data: { k: 4 } })
    expect(a.status).toBe(201)
    expect(b.status).toBe(201)
    const { code, stdout } = await runBinary(['export', 'exp.*', '--url', server.url])
    expect(code).toBe(0)
    expect(stdout.endsWith('\n')).toBe(true)
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((e) => e.data)).toEqual([{ k: 1 }, { k: 2 }, { k: 3 }])
    expect(lines.map((e) => e.stream)).toEqual(['exp.1', 'exp.1', 'exp.2'])
    expect(lines[2].type).toBe('t')
    const ids = lines.map((e) => e.id)
    expect([...ids].sort((x, y) => x - y)).toEqual(ids)

    const after = await runBinary(['export', 'exp.*', '--url', server.url, '--after', String(ids[0])])
    expect(after.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(ids.slice(1))
  })

  test('tail prints an event published after it starts', async () => {
    await using tail = spawnBinary(['tail', 'tail.*', '--url', server.url])
    // The subscription starts live: wait until the server lists it before publishing.
    await waitSubscribed(server.url, 'tail.*', () => tail.stderr)
    const { body } = await post(server.url, 'tail.1', { type: 'note', data: { hello: 'tail' } })
    const match = await tail.waitFor(/^.*"hello":"tail".*$/m, 'stdout', 5000)
    const line = JSON.parse(match[0])
    expect(line).toEqual(body)
    expect(tail.isRunning).toBe(true)
    tail.kill('SIGTERM')
    await tail.exit(5000)
  })
})

describe('tail across a server restart', () => {
  test('keeps following: resumes after its last id once the server is back, nothing lost or repeated', async () => {
    const first = await startBinary()
    let second: BinaryServer | undefined
    try {
      await using tail = spawnBinary(['tail', 'restart.*', '--url', first.url])
      await waitSubscribed(first.url, 'restart.*', () => tail.stderr)
      const e1 = (await post(first.url, 'restart.1', { data: 'before' })).body
      await tail.waitFor(/"before"/, 'stdout', 5000)

      expect((await first.terminate(8000)).code).toBe(0)
      // The scenario: the server stays down for longer than tail's 1 s retry interval.
      await Bun.sleep(1500)
      expect(tail.isRunning).toBe(true)
      second = await startBinary({ dataFile: first.dataFile, port: first.port })
      const e2 = (await post(second.url, 'restart.1', { data: 'after' })).body
      await tail.waitFor(/"after"/, 'stdout', 8000)
      expect(tail.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([e1, e2])
      expect(tail.stderr).toBe('')
    } finally {
      await second?.dispose()
      await first.dispose()
    }
  }, 20_000)
})

/** A refused start-up: non-zero exit, nothing on stdout, one stderr line naming the setting, nothing started, no stack. */
function expectRefusedInOneLine({ code, stdout, stderr }: RunResult, names: RegExp): void {
  expect(code).not.toBe(0)
  expect(code).not.toBeNull()
  expect(stdout).toBe('')
  const lines = stderr.split('\n').filter((l) => l !== '')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(names)
  expect(stderr).not.toContain('listening')
  expect(stderr).not.toMatch(/\n\s+at /)
}
