import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type BinaryServer, freePort, post, requireBinary, runBinary, spawnBinary, startBinary, waitSubscribed } from '../helpers/binary'
import { eventually } from '../helpers/publisher'
import { hsToken, TEST_SECRET } from '../helpers/tokens'

beforeAll(() => {
  requireBinary()
})

describe('refusals are one line with the server’s reason and hint', () => {
  let server: BinaryServer
  beforeAll(async () => {
    server = await startBinary({ args: ['--jwt-secret', TEST_SECRET] })
  })
  afterAll(async () => {
    await server?.dispose()
  })

  test('no token: the hint says how to give one to the CLI', async () => {
    const { code, stderr } = await runBinary(['publish', 'jobs.1', '{}', '--url', server.url])
    expect(code).toBe(1)
    expect(stderr).toBe('ringcast: 401 No token given. Hint: Give a token with --token or RINGCAST_TOKEN (ringcast token mints one).\n')
  })

  test('a token signed with another secret: the hint says the keys differ', async () => {
    const token = await hsToken('another-secret-0123456789', { publish: ['**'] })
    const { code, stderr } = await runBinary(['publish', 'jobs.1', '{}', '--url', server.url, '--token', token])
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain('401 Invalid token: token signature does not verify.')
    expect(stderr).toContain("Hint: It was not signed with this server's key")
    expect(stderr).not.toContain(token)
  })

  test('a token from RINGCAST_TOKEN is sent; a refusal names the stream and says why', async () => {
    const token = await hsToken(TEST_SECRET, { publish: ['jobs.*'] })
    const ok = await runBinary(['publish', 'jobs.1', '{"n":1}', '--url', server.url], { env: { RINGCAST_TOKEN: token } })
    expect(ok.stderr).toBe('')
    expect(JSON.parse(ok.stdout)).toMatchObject({ stream: 'jobs.1', data: { n: 1 } })
    const refused = await runBinary(['publish', 'other.1', '{}', '--url', server.url], { env: { RINGCAST_TOKEN: token } })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe('ringcast: 403 Your token may not publish to "other.1". Hint: Its ringcast.publish patterns must match the stream.\n')
  })

  test('tail refused at start: one line with the reason, exit 1', async () => {
    const token = await hsToken(TEST_SECRET, { subscribe: ['jobs.*'] })
    const { code, stdout, stderr } = await runBinary(['tail', 'other.*', '--url', server.url, '--token', token])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toStartWith('ringcast: 403 ')
    expect(stderr).toContain('other.*')
  })

  test('tail whose token expires while following: exit 1, saying where to resume', async () => {
    const token = await hsToken(TEST_SECRET, { subscribe: ['short.*'] }, { expiresInSec: 2 })
    await using tail = spawnBinary(['tail', 'short.*', '--url', server.url, '--token', token])
    const admin = await hsToken(TEST_SECRET, { admin: true, publish: ['**'] })
    const auth = { Authorization: `Bearer ${admin}` }
    await eventually(async () => JSON.stringify(await (await fetch(`${server.url}/v1/connections`, { headers: auth })).json()).includes('short.*'), 5000, 'tail subscribed')
    const { body } = await post(server.url, 'short.1', { data: 'seen' }, undefined, auth)
    await tail.waitFor(/"seen"/, 'stdout', 5000)
    expect(await tail.exit(8000)).toBe(1)
    expect(tail.stderr.trim().split('\n')).toHaveLength(1)
    expect(tail.stderr).toContain('ringcast: 401 ')
    expect(tail.stderr).toContain(`--after ${body.id}`)
  }, 15_000)
})

describe('a server that cannot be reached is one line naming the URL', () => {
  let url: string
  beforeAll(async () => {
    url = `http://127.0.0.1:${await freePort()}`
  })
  const commands: [string, string[], string?][] = [
    ['publish', ['publish', 'jobs.1', '{}']],
    ['export', ['export', 'jobs.*']],
    ['import', ['import'], '{"stream":"jobs.1","data":1}\n'],
    ['tail', ['tail', 'jobs.*']],
    ['health', ['health']],
  ]
  for (const [name, args, stdin] of commands) {
    test(name, async () => {
      const { code, stdout, stderr } = await runBinary([...args, '--url', url], { stdin, timeoutMs: 5000 })
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(stderr).toContain(`cannot reach ${url} (connection refused)`)
      expect(stderr).not.toMatch(/\bat .*\.ts:\d+/)
    })
  }

  test('--url without a scheme is taken as http', async () => {
    const { stderr } = await runBinary(['publish', 'jobs.1', '{}', '--url', url.slice('http://'.length)], { timeoutMs: 5000 })
    expect(stderr).toContain(`cannot reach ${url} `)
  })
})

describe('tail', () => {
  let server: BinaryServer
  beforeAll(async () => {
    server = await startBinary()
  })
  afterAll(async () => {
    await server?.dispose()
  })

  test('on a closed stream without --after, says it is closed and exits 0', async () => {
    const last = await post(server.url, 'closed.1', { type: 'done', data: {}, terminal: true })
    const { code, stdout, stderr } = await runBinary(['tail', 'closed.1', '--url', server.url])
    expect(code).toBe(0)
    expect(stdout).toBe('')
    expect(stderr).toBe(`ringcast: closed.1 is closed: nothing after #${last.body.id} (--after 0 prints its history)\n`)
  })

  test('on a closed stream with --after 0, prints its history and exits 0', async () => {
    const first = await post(server.url, 'closed.2', [{ data: 1 }, { type: 'done', data: 2, terminal: true }])
    const { code, stdout } = await runBinary(['tail', 'closed.2', '--after', '0', '--url', server.url])
    expect(code).toBe(0)
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(first.body)
  })

  test('--types narrows what it prints', async () => {
    await using tail = spawnBinary(['tail', 'typed.*', '--types', 'keep', '--url', server.url])
    await waitSubscribed(server.url, 'typed.*', () => tail.stderr)
    await post(server.url, 'typed.1', [{ type: 'skip', data: 1 }, { type: 'keep', data: 2 }])
    await tail.waitFor(/"keep"/, 'stdout')
    expect(tail.stdout.trim().split('\n').map((l) => JSON.parse(l).type)).toEqual(['keep'])
  })
})

describe('tail started without --after', () => {
  test('has a position from the start: events published while the server restarts, before its first event, are printed', async () => {
    const first = await startBinary()
    let second: BinaryServer | undefined
    try {
      await post(first.url, 'early.1', { data: 'before tail' })
      await using tail = spawnBinary(['tail', 'early.*', '--url', first.url])
      await waitSubscribed(first.url, 'early.*', () => tail.stderr)
      expect((await first.terminate(8000)).code).toBe(0)
      second = await startBinary({ dataFile: first.dataFile, port: first.port })
      // Published before tail's retry (1 s) reaches the new server: only a resume position keeps it.
      const missed = (await post(second.url, 'early.1', { data: 'while away' })).body
      await tail.waitFor(/"while away"/, 'stdout', 8000)
      expect(tail.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([missed])
      expect(tail.stderr).toBe('')
    } finally {
      await second?.dispose()
      await first.dispose()
    }
  }, 20_000)
})
