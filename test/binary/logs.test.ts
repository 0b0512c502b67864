import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { type BinaryServer, post, requireBinary, spawnBinary, startBinary, tempDir, waitReady } from '../helpers/binary'
import { RawSseClient } from '../helpers/raw-clients'
import { hsToken, TEST_SECRET } from '../helpers/tokens'

beforeAll(() => {
  requireBinary()
})

const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z'

describe('--log-events mirrors every published event to stdout', () => {
  let server: BinaryServer
  beforeAll(async () => {
    server = await startBinary({ args: ['--log-events'] })
  })
  afterAll(async () => {
    await server?.dispose()
  })

  test('as `[events] <time> <stream> #<id> <type> <data>`, data on one line and cut to 200 characters', async () => {
    const long = 'x'.repeat(300)
    const [a, b] = (await post(server.url, 'jobs.1', [{ type: 'step', data: { n: 1 } }, { data: 'two\nlines' }])).body
    const c = (await post(server.url, 'jobs.2', { data: long })).body
    await server.waitFor(new RegExp(`#${c.id} `), 'stdout')
    expect(server.stdout.trim().split('\n')).toEqual([
      `[events] ${a.time} jobs.1 #${a.id} step {"n":1}`,
      `[events] ${b.time} jobs.1 #${b.id} message two lines`,
      `[events] ${c.time} jobs.2 #${c.id} message ${'x'.repeat(200)}…`,
    ])
  })

  test('nothing about events reaches stderr, and the banner lists the setting', () => {
    expect(server.stderr).not.toContain('[events]')
    expect(server.stderr).toMatch(/ringcast listening .*settings="--log-events true"/)
  })
})

describe('--log-format json', () => {
  test('every log line and every mirrored event is one JSON object', async () => {
    const dir = tempDir()
    const server = spawnBinary(['serve', '--port', '0', '--data', join(dir, 'r.db'), '--log-format', 'json', '--log-events'])
    let url = ''
    try {
      url = (await server.waitFor(/"msg":"ringcast listening","url":"([^"]+)"/))[1]
      await waitReady(url)
      const event = (await post(url, 'jobs.1', { data: { n: 1 } })).body
      await server.waitFor(/"msg":"event"/, 'stdout')
      expect(JSON.parse(server.stdout)).toEqual({ time: event.time, msg: 'event', stream: 'jobs.1', id: event.id, type: 'message', data: '{"n":1}' })
      server.kill('SIGTERM')
      expect(await server.exit()).toBe(0)
    } finally {
      await server.dispose()
      rmSync(dir, { recursive: true, force: true })
    }
    const records = server.stderr.trim().split('\n').map((l) => JSON.parse(l))
    expect(records.map((r) => r.msg)).toEqual([expect.stringContaining('OPEN'), 'ringcast listening', 'draining', 'stopped'])
    expect(records[1]).toMatchObject({ level: 'info', url, docs: `${url}/docs`, auth: 'open: no token needed' })
    for (const r of records) expect(r.time).toMatch(new RegExp(`^${ISO}$`))
  })
})

describe('--log-level debug', () => {
  let server: BinaryServer
  let token: string
  beforeAll(async () => {
    server = await startBinary({ args: ['--log-level', 'debug', '--jwt-secret', TEST_SECRET] })
    token = await hsToken(TEST_SECRET, { publish: ['**'], subscribe: ['**'], admin: true })
  })
  afterAll(async () => {
    await server?.dispose()
  })

  test('the banner says the URL, /docs, the auth mode, the data file and the settings that differ from the defaults', () => {
    const banner = server.stderr.split('\n').find((l) => l.includes('ringcast listening'))!
    expect(banner).toContain(`url="${server.url}"`)
    expect(banner).toContain(`docs="${server.url}/docs"`)
    expect(banner).toContain('auth="HS256/384/512 tokens (--jwt-secret)"')
    expect(banner).toContain(`data="${server.dataFile}"`)
    expect(banner).toContain('settings="--log-level debug"')
    expect(banner).not.toContain(TEST_SECRET)
  })

  test('one line per request: method, path, status, µs; never the query or the token', async () => {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
    await fetch(`${server.url}/v1/streams/jobs.9/events`, { method: 'POST', headers, body: '{"data":1}' })
    // One stream's publishes and polls have a fast route of their own: logged all the same.
    await fetch(`${server.url}/v1/streams/jobs.9/events?after=0`, { headers })
    await fetch(`${server.url}/v1/events?stream=jobs.*&after=0`, { headers })
    await fetch(`${server.url}/v1/streams?access_token=${token}`)
    await fetch(`${server.url}/v1/nope`, { headers })
    await fetch(`${server.url}/v1/streams`, { method: 'DELETE', headers })
    await fetch(`${server.url}/v1/streams/jobs.9/events`, { method: 'POST', body: '{"data":1}' })
    await server.waitFor(/path="\/v1\/streams\/jobs\.9\/events" status=401/)
    const requests = server.stderr.split('\n').filter((l) => l.includes('DEBUG request method') && !l.includes('/readyz'))
    expect(requests.map((l) => l.replace(/^.*DEBUG request /, '').replace(/ us=\d+$/, ' us=N'))).toEqual([
      'method="POST" path="/v1/streams/jobs.9/events" status=201 us=N',
      'method="GET" path="/v1/streams/jobs.9/events" status=200 us=N',
      'method="GET" path="/v1/events" status=200 us=N',
      'method="GET" path="/v1/streams" status=200 us=N',
      'method="GET" path="/v1/nope" status=404 us=N',
      'method="DELETE" path="/v1/streams" status=405 us=N',
      'method="POST" path="/v1/streams/jobs.9/events" status=401 us=N',
    ])
    expect(server.stderr).not.toContain(token)
  })

  test('each connection as it opens and closes: transport, remote, patterns, delivered', async () => {
    const sse = await RawSseClient.open(server.port, `/v1/events?stream=log.*&access_token=${token}`)
    const open = await server.waitFor(/DEBUG connection open id="(sse-[^"]+)" transport="sse" remote="127\.0\.0\.1" patterns="log\.\*"/)
    await fetch(`${server.url}/v1/streams/log.1/events`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '[{"data":1},{"data":2}]' })
    await sse.until(() => sse.body.split('id: ').length === 3, 5000, 'two events')
    sse.destroy()
    await server.waitFor(new RegExp(`DEBUG connection closed id="${open[1]}" transport="sse" remote="127\\.0\\.0\\.1" patterns="log\\.\\*" delivered=2 seconds=`))
    expect(server.stderr).not.toContain(token)
  })
})

describe('shutdown', () => {
  test('logs `stopped` with the connections it drained', async () => {
    const server = await startBinary()
    try {
      const sse = await RawSseClient.open(server.port, '/v1/events?stream=bye.*')
      expect((await server.terminate()).code).toBe(0)
      await sse.ended()
      expect(server.stderr).toMatch(/INFO  draining signal="SIGTERM"\n.*INFO  stopped connections=1 sse=1 ws=0 poll=0 ms=\d+\n$/)
    } finally {
      await server.dispose()
    }
  })
})
