import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import { type BinaryServer, exportNdjson, post, requireBinary, runBinary, startBinary } from '../helpers/binary'
import { metric } from '../helpers/raw-clients'

beforeAll(() => {
  requireBinary()
})

const SECRET = 'token-test-secret-0123456789'
/** What an import must keep of an event: everything but its id and time. */
const kept = (e: any) => ({ stream: e.stream, type: e.type, data: e.data, key: e.key, correlationId: e.correlationId })

describe('import reads what export writes', () => {
  let source: BinaryServer
  let target: BinaryServer
  let ndjson: string
  let originals: any[]
  beforeAll(async () => {
    ;[source, target] = await Promise.all([startBinary(), startBinary()])
    await post(source.url, 'rt.1', [{ type: 'step', data: { n: 1 }, correlationId: 'wf-1' }, { data: 'text', key: 'own-key' }])
    await post(source.url, 'rt.2', { type: 'log', data: [1, 2, 3] })
    await post(source.url, 'rt.1', { type: 'done', data: null })
    const exported = await runBinary(['export', 'rt.*', '--url', source.url])
    expect(exported.code).toBe(0)
    ndjson = exported.stdout
    originals = ndjson.trim().split('\n').map((l) => JSON.parse(l))
    expect(originals).toHaveLength(4)
  })
  afterAll(async () => {
    await Promise.all([source?.dispose(), target?.dispose()])
  })

  test('each event goes to its own stream with type, data, key and correlationId; keys are derived where there were none', async () => {
    const { code, stdout, stderr } = await runBinary(['import', '--url', target.url, '--batch', '2'], { stdin: ndjson })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toBe('imported 4 events into 2 streams: 4 stored, 0 duplicates not stored again\n')
    const imported = await exportNdjson(target.url, ['rt.*'])
    const derived = (e: any) => e.key ?? `import:${e.stream}#${e.id}`
    expect(imported.map(kept)).toEqual(originals.map((e) => ({ ...kept(e), key: derived(e) })))
  })

  test('importing the same file again stores nothing twice', async () => {
    const before = await metric(target.url, 'ringcast_events_published_total')
    const { code, stdout } = await runBinary(['import', '--url', target.url], { stdin: ndjson })
    expect(code).toBe(0)
    expect(stdout).toBe('imported 4 events into 2 streams: 0 stored, 4 duplicates not stored again\n')
    expect(await metric(target.url, 'ringcast_events_published_total')).toBe(before)
    expect(await exportNdjson(target.url, ['rt.*'])).toHaveLength(4)
  })

  test('--stream puts every event in one stream, in order', async () => {
    const { code } = await runBinary(['import', '--url', target.url, '--stream', 'merged.1'], { stdin: ndjson })
    expect(code).toBe(0)
    const merged = await exportNdjson(target.url, ['merged.1'])
    expect(merged.map((e) => e.data)).toEqual(originals.map((e) => e.data))
    expect(new Set(merged.map((e) => e.stream))).toEqual(new Set(['merged.1']))
  })

  test('a line that is not JSON stops the import with its line number', async () => {
    const { code, stderr } = await runBinary(['import', '--url', target.url], { stdin: `${ndjson}{oops\n` })
    expect(code).toBe(1)
    expect(stderr).toMatch(/^ringcast: line 5 is not JSON/)
    expect(stderr.trim().split('\n')).toHaveLength(1)
  })
})

describe('import against a publish rate limit', () => {
  test('waits out each 429 (Retry-After) and stores every event once', async () => {
    await using server = await startBinary({ args: ['--publish-rate', '5'] })
    const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: i + 1, stream: 'slow.1', type: 'message', data: i, time: new Date().toISOString() }))
    const { code, stdout, stderr } = await runBinary(['import', '--url', server.url, '--batch', '5'], { stdin: `${lines.join('\n')}\n`, timeoutMs: 15_000 })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toContain('12 stored')
    expect((await exportNdjson(server.url, ['slow.1'])).map((e) => e.data)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    expect(await metric(server.url, 'ringcast_requests_rejected_total', '{code="rate_limited"}')).toBeGreaterThan(0)
  }, 20_000)
})

describe('token', () => {
  let server: BinaryServer
  beforeAll(async () => {
    server = await startBinary({ args: ['--jwt-secret', SECRET, '--jwt-audience', 'ringcast-test'] })
  })
  afterAll(async () => {
    await server?.dispose()
  })
  const mint = async (args: string[], env: Record<string, string> = {}) => {
    const { code, stdout, stderr } = await runBinary(['token', ...args], { env })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    return stdout.trim()
  }

  test('prints an HS256 JWT with the claims asked for', async () => {
    const token = await mint(['--jwt-secret', SECRET, '--sub', 'ci-7', '--publish', 'jobs.*', '--publish', 'builds.**', '--subscribe', 'jobs.**', '--ttl', '60', '--jwt-audience', 'ringcast-test'])
    const payload = decodeJwt(token)
    expect(payload).toMatchObject({ sub: 'ci-7', aud: 'ringcast-test', ringcast: { publish: ['jobs.*', 'builds.**'], subscribe: ['jobs.**'], admin: false } })
    expect(payload.exp! - payload.iat!).toBe(60)
  })

  test('the server with that secret accepts it, within its grants', async () => {
    const token = await mint(['--publish', 'jobs.*', '--jwt-audience', 'ringcast-test'], { RINGCAST_JWT_SECRET: SECRET })
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
    const publish = (stream: string) => fetch(`${server.url}/v1/streams/${stream}/events`, { method: 'POST', headers: auth, body: '{"data":1}' }).then((r) => r.status)
    expect(await publish('jobs.1')).toBe(201)
    expect(await publish('other.1')).toBe(403)
    expect((await fetch(`${server.url}/v1/connections`, { headers: auth })).status).toBe(403)
  })

  test('--admin grants the admin routes; --ttl 0 sets no expiry', async () => {
    const token = await mint(['--jwt-secret', SECRET, '--admin', '--ttl', '0', '--jwt-audience', 'ringcast-test'])
    expect(decodeJwt(token).exp).toBeUndefined()
    expect((await fetch(`${server.url}/v1/connections`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200)
  })

  test('a token without the audience the server requires is refused', async () => {
    const token = await mint(['--jwt-secret', SECRET, '--admin'])
    expect((await fetch(`${server.url}/v1/connections`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401)
  })

  const refused: [string, string[], RegExp][] = [
    ['no secret', [], /missing --jwt-secret/],
    ['a secret shorter than the server accepts', ['--jwt-secret', 'short'], /at least 16 characters/],
    ['a bad pattern', ['--jwt-secret', SECRET, '--publish', 'jobs..x'], /--publish jobs\.\.x/],
    ['a ttl that is not whole seconds', ['--jwt-secret', SECRET, '--ttl', '1.5'], /--ttl/],
  ]
  for (const [name, args, message] of refused) {
    test(`refuses ${name} with one line and exit code 2`, async () => {
      const { code, stdout, stderr } = await runBinary(['token', ...args])
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toMatch(message)
    })
  }
})
