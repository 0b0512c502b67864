import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { streamNameProblem } from '../../src/core/pattern'
import { startTestServer, type TestServer } from '../helpers/start-server'
import { hsToken, noneToken, TEST_SECRET, tamper } from '../helpers/tokens'
import { WsTestClient } from '../helpers/ws-client'
import { roundTrip } from './support'

// Thousands of random requests and WebSocket frames against one running server: never a 5xx,
// never a dropped server, and the events stored are exactly those some 2xx answer (or WebSocket
// `ok`) reported — nothing from a rejected request. Inputs come from fast-check with a fixed
// seed, so a failure reproduces: FUZZ_SEED=<n> overrides it.

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_122)
const MAX_PAYLOAD = 64 * 1024
const CONCURRENCY = 8
/** FUZZ_DEBUG=1 prints the status mix, to check the generators still reach both sides. */
const DEBUG = Boolean(process.env.FUZZ_DEBUG)

// ---------- generators ----------

const ascii = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max })
const STREAMS = Array.from({ length: 60 }, (_, i) => `fz.p.${i % 6}.${i}`)
const validStream = fc.constantFrom(...STREAMS)
/** A path segment: mostly valid stream names, else anything a client might put there (raw, not re-encoded). */
const segment = fc.oneof(
  { weight: 16, arbitrary: validStream },
  { weight: 1, arbitrary: fc.constantFrom('fz.p', '*', '**', 'fz.*', 'a..b', '.a', 'a.', '%zz', '%', '%2e%2e', 'a%00b', 'a%2Fb', 'x'.repeat(300), Array(20).fill('a').join('.'), '%F0%9F%98%80', '%C3%28') },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._*~-]{0,70}$/) },
)
const number = fc.oneof(
  fc.integer({ min: -5, max: 5000 }).map(String),
  fc.constantFrom('', '-1', '0', '1e3', '0x10', '1.5', 'NaN', 'Infinity', '9'.repeat(30), '9007199254740993', ' 7', 'abc', '[]', '%00'),
)
const jsonText = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null')
const validEvent = fc.record(
  {
    type: fc.constantFrom('progress', 'log', 'stage_completed', 'a.b:c/d'),
    data: fc.jsonValue({ maxDepth: 3 }),
    key: fc.nat({ max: 2000 }).map((n) => `k${n}`),
    correlationId: fc.constantFrom('wf-1', 'wf-2'),
    terminal: fc.oneof({ weight: 60, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  },
  { requiredKeys: ['data'] },
)
/** Any field may be of the wrong type or shape, or unknown. */
const randomEvent = fc.record(
  {
    type: fc.oneof(ascii(20), fc.integer(), fc.constant(''), fc.constant('a b')),
    data: fc.jsonValue({ maxDepth: 3 }),
    key: fc.oneof(ascii(10), fc.constant(''), fc.constant('k'.repeat(300))),
    correlationId: fc.oneof(fc.constant(''), fc.integer()),
    terminal: fc.constantFrom('yes', 1, null),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
)
const event = fc.oneof({ weight: 5, arbitrary: validEvent }, { weight: 1, arbitrary: randomEvent })
/** Damages a text: truncates it, or inserts or replaces one character. */
const mangle = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, fc.nat(), fc.constantFrom('cut', 'insert', 'replace'), fc.constantFrom('{', '}', '"', ',', ':', '\\', '\0', '\n', 'x', ']')).map(([s, at, how, c]) => {
    const i = at % (s.length + 1)
    return how === 'cut' ? s.slice(0, i) : how === 'insert' ? `${s.slice(0, i)}${c}${s.slice(i)}` : `${s.slice(0, i)}${c}${s.slice(i + 1)}`
  })
const body: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 10, arbitrary: event.map((e) => JSON.stringify(e)) },
  { weight: 5, arbitrary: fc.array(event, { maxLength: 6 }).map((es) => JSON.stringify(es)) },
  { weight: 3, arbitrary: fc.array(event, { maxLength: 5 }).map((es) => es.map((e) => JSON.stringify(e)).join('\n')) },
  { weight: 2, arbitrary: mangle(event.map((e) => JSON.stringify(e))) },
  { weight: 2, arbitrary: jsonText },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '[]', '{}', '[[]]', '{"data":', '"\\ud800"', `{"data":"${'x'.repeat(MAX_PAYLOAD)}"}`, `[${Array(50).fill('{"data":1}').join(',')}]`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((depth) => `${'['.repeat(depth * 100)}${']'.repeat(depth * 100)}`) },
)
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json', 'application/x-ndjson', 'text/plain', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.x+json', 'application/jsonl', '') },
  { weight: 1, arbitrary: fc.constantFrom('text/csv', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=utf-16') },
  { weight: 1, arbitrary: ascii(30) },
)

interface Req {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array
  /** Set on publishes: their 2xx answers report stored events. */
  isPublish: boolean
}

const publishReq = fc.record({ stream: segment, body, contentType, key: fc.option(fc.constantFrom('idem-1', 'idem-2', 'idem-3'), { nil: undefined }) }).map(
  ({ stream, body: b, contentType: ct, key }): Req => ({
    method: 'POST',
    path: `/v1/streams/${stream}/events`,
    headers: { ...(ct && { 'Content-Type': ct }), ...(key && { 'Idempotency-Key': key }) },
    body: b,
    isPublish: true,
  }),
)
const queryKeys = ['after', 'limit', 'types', 'since', 'heartbeat', 'stream', 'correlationId', 'slow', 'wait', 'x']
const queryValue = (key: string) => {
  switch (key) {
    case 'wait':
      // Only values that never hold a long-poll open: 0 and invalid ones.
      return fc.constantFrom('0', '', 'abc', '-1', '61', '100000', '0x0')
    case 'since':
      return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('yesterday', '2026-13-45T99:99:99Z', '0', ''), ascii(20))
    case 'stream':
    case 'types':
      return fc.oneof(segment, fc.array(validStream, { maxLength: 3 }).map((s) => s.join(',')), fc.constantFrom('fz.**', 'fz.p.*.*', '**', '*'))
    case 'slow':
      return fc.constantFrom('close', 'drop', 'other', '')
    default:
      return fc.oneof(number, fc.string({ maxLength: 20 }).map(encodeURIComponent))
  }
}
const query = fc.array(fc.constantFrom(...queryKeys).chain((k) => queryValue(k).map((v) => `${k}=${v}`)), { maxLength: 6 }).map((parts) => (parts.length ? `?${parts.join('&')}` : ''))
const readReq = fc
  .record({
    path: fc.oneof(segment.map((s) => `/v1/streams/${s}/events`), fc.constant('/v1/events')),
    query,
    accept: fc.constantFrom('application/json', 'application/x-ndjson', '*/*', '', 'text/html', 'text/event-stream'),
    lastEventId: fc.option(number, { nil: undefined }),
  })
  .map(({ path, query: q, accept, lastEventId }): Req => ({ method: 'GET', path: `${path}${q}`, headers: { ...(accept && { Accept: accept }), ...(lastEventId !== undefined && { 'Last-Event-ID': lastEventId }) }, isPublish: false }))
/** Other routes under /v1/streams; PUT and DELETE only where nothing is published, so the accounting stays exact. */
const otherReq = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST'),
    target: fc.oneof(segment, fc.constantFrom('fz.cfg.1', 'fz.cfg.2')),
    tail: fc.constantFrom('', '', '/close', '/events/x', '/x', '/', '/events/'),
    body: fc.oneof(fc.constant(undefined), jsonText, fc.record({ ringSize: number, maxEvents: number, ephemeral: fc.jsonValue() }, { requiredKeys: [] }).map((o) => JSON.stringify(o))),
    query,
  })
  .map(({ method, target, tail, body: b, query: q }): Req => {
    const isStored = isName(target) && !target.startsWith('fz.cfg.')
    // Reconfiguring or deleting a stream that may hold fuzz events would change what is stored: aim those elsewhere.
    const safe = (method === 'PUT' || method === 'DELETE') && isStored ? `fz.cfg.${target.length % 3}` : target
    return { method, path: `/v1/streams/${safe}${tail}${q}`, headers: b === undefined ? {} : { 'Content-Type': 'application/json' }, body: method === 'GET' || method === 'HEAD' ? undefined : b, isPublish: false }
  })
/** Whether a raw path segment reaches the server as a valid stream name (Elysia percent-decodes it once). */
function isName(segment: string): boolean {
  try {
    return streamNameProblem(decodeURIComponent(segment)) === null
  } catch {
    return false
  }
}
/** Group routes that store no event: reads and deletes of random group names. */
const groupReq = fc.record({ method: fc.constantFrom('GET', 'DELETE'), name: segment, tail: fc.constantFrom('', '', '/x') }).map(({ method, name, tail }): Req => ({ method, path: `/v1/groups/${name}${tail}`, headers: {}, isPublish: false }))
const anyReq = fc.oneof({ weight: 5, arbitrary: publishReq }, { weight: 4, arbitrary: readReq }, { weight: 2, arbitrary: otherReq }, { weight: 1, arbitrary: groupReq }, { weight: 1, arbitrary: fc.record({ q: query, p: fc.constantFrom('/v1/streams', '/v1/connections', '/metrics', '/readyz', '/v1/tickets', '/v1/nothing', '/v1/ws') }).map(({ q, p }): Req => ({ method: 'GET', path: `${p}${q}`, headers: {}, isPublish: false })) })

const frame: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 2, arbitrary: mangle(jsonText) },
  { weight: 2, arbitrary: jsonText },
  { weight: 2, arbitrary: fc.record({ op: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'consume', 'ack', 'event', ''), ascii(10), fc.integer()), sub: fc.jsonValue({ maxDepth: 1 }), streams: fc.jsonValue({ maxDepth: 2 }), after: fc.jsonValue({ maxDepth: 0 }), data: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        sub: fc.constantFrom('s1', 's2', 's3', ''),
        streams: fc.array(fc.oneof(validStream, fc.constantFrom('fz.**', 'fz.p.*.*', 'fz.p.1.*', '**.x', 'bad name', '')), { minLength: 0, maxLength: 4 }),
        after: fc.option(fc.oneof(fc.integer({ min: -3, max: 3000 }), fc.constantFrom(1e20, 2 ** 53, 0.5)), { nil: undefined }),
        types: fc.option(fc.array(fc.constantFrom('progress', 'log', 'a b', ''), { maxLength: 3 }), { nil: undefined }),
      })
      .map((s) => JSON.stringify({ op: 'subscribe', ...s })),
  },
  { weight: 1, arbitrary: fc.constantFrom('s1', 's2', 's3', 'nope').map((sub) => JSON.stringify({ op: 'unsubscribe', sub })) },
  { weight: 5, arbitrary: fc.tuple(validStream, validEvent).map(([stream, e]) => JSON.stringify({ op: 'publish', stream, ...e })) },
  { weight: 2, arbitrary: fc.record({ stream: fc.oneof(validStream, segment), data: fc.jsonValue({ maxDepth: 3 }), type: fc.option(fc.oneof(fc.constant('progress'), ascii(12)), { nil: undefined }), key: fc.option(fc.constantFrom('wk1', 'wk2'), { nil: undefined }), extra: fc.option(fc.constant(1), { nil: undefined }) }).map((p) => JSON.stringify({ op: 'publish', ...p })) },
  { weight: 1, arbitrary: fc.constantFrom(`{"op":"publish","stream":"fz.p.0.0","data":"${'y'.repeat(40_000)}"}`, `{"op":"subscribe","sub":"big","streams":[${Array(500).fill('"fz.p.1.1"').join(',')}]}`, `{"op":"ping","ref":"${'r'.repeat(500)}"}`, `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`, '"\\ud800"') },
)

// ---------- the run ----------

interface Outcome {
  statuses: Map<number, number>
  fiveHundreds: string[]
  stored: Set<number>
  clientErrors: string[]
}

/** Sends every request (a few at a time), recording statuses and the ids that 2xx publishes report. */
async function fire(base: string, requests: Req[], credentialOf: (i: number) => string | null): Promise<Outcome> {
  const out: Outcome = { statuses: new Map(), fiveHundreds: [], stored: new Set(), clientErrors: [] }
  let next = 0
  const codes = new Map<string, number>()
  const worker = async () => {
    while (next < requests.length) {
      const i = next++
      const r = requests[i]
      const credential = credentialOf(i)
      const headers = { ...r.headers, ...(credential && { Authorization: `Bearer ${credential}` }) }
      const abort = new AbortController()
      let res: Response
      try {
        res = await fetch(`${base}${r.path}`, { method: r.method, headers, body: r.body, signal: abort.signal })
      } catch (error) {
        out.clientErrors.push(`${r.method} ${r.path.slice(0, 80)}: ${(error as Error).message}`)
        continue
      }
      out.statuses.set(res.status, (out.statuses.get(res.status) ?? 0) + 1)
      const isStream = (res.headers.get('content-type') ?? '').startsWith('text/event-stream')
      // An open SSE stream never ends by itself: its head is the answer.
      const text = isStream ? '' : await res.text()
      if (isStream) abort.abort()
      if (res.status >= 500) out.fiveHundreds.push(`${res.status} ${r.method} ${r.path.slice(0, 120)} ${String(r.body ?? '').slice(0, 80)} → ${text.slice(0, 200)}`)
      if (DEBUG && r.isPublish) {
        const outcome = `${res.status} ${text.match(/"code":"(\w+)"/)?.[1] ?? ''}`
        codes.set(outcome, (codes.get(outcome) ?? 0) + 1)
      }
      if (r.isPublish && res.status >= 200 && res.status < 300) {
        const parsed = JSON.parse(text)
        for (const e of Array.isArray(parsed) ? parsed : [parsed]) if (!e.duplicate) out.stored.add(e.id)
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  if (DEBUG) console.log('statuses', out.statuses, 'publish outcomes', codes)
  return out
}

/** Sends the frames over a few sockets; resolves with the ids that `ok` replies to publishes reported. */
async function fireFrames(wsUrl: string, frames: (string | Uint8Array)[]): Promise<{ stored: Set<number>; unexpectedCloses: string[] }> {
  const stored = new Set<number>()
  const unexpectedCloses: string[] = []
  const sockets = await Promise.all([0, 1, 2].map(() => WsTestClient.open(wsUrl)))
  // Answers by ref, from a listener of our own: the helper's next() consumes what it skips over.
  const answers = new Map<string, (m: any) => void>()
  for (const ws of sockets) {
    ws.socket.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data))
      if (typeof m.ref === 'string') answers.get(m.ref)?.(m)
    })
  }
  let ref = 0
  const pending: Promise<void>[] = []
  frames.forEach((f, i) => {
    const ws = sockets[i % sockets.length]
    let data = f
    // Every publish carries a unique ref, so each one's answer can be awaited and counted.
    if (typeof f === 'string' && f.startsWith('{"op":"publish"')) {
      const r = `fz-${++ref}`
      data = `{"ref":"${r}",${f.slice(1)}`
      pending.push(
        new Promise<void>((resolve) =>
          answers.set(r, (m) => {
            if (m.op === 'ok' && m.duplicate === false) stored.add(m.id)
            resolve()
          }),
        ),
      )
    }
    ws.socket.send(data)
  })
  await Promise.all(pending)
  for (const [i, ws] of sockets.entries()) {
    if (ws.closeCode !== undefined) unexpectedCloses.push(`socket ${i}: ${ws.closeCode} ${ws.closeReason}`)
    else expect((await roundTrip(ws, { op: 'ping', ref: 'last' }, (m) => m.op === 'pong' && m.ref === 'last')).op).toBe('pong')
    ws.close()
  }
  return { stored, unexpectedCloses }
}

/** Every id the server holds for the fuzz streams. */
async function storedIds(base: string, headers: Record<string, string> = {}): Promise<number[]> {
  const res = await fetch(`${base}/v1/events?stream=**&after=0`, { headers: { Accept: 'application/x-ndjson', ...headers } })
  expect(res.status).toBe(200)
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).id)
}

const sorted = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b)

describe('fuzz, open server', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ 'max-payload': String(MAX_PAYLOAD), 'max-batch': '20', 'buffer-limit': String(64 * 1024 * 1024) })
  })
  afterAll(() => server.close())

  test('random requests and frames: no 5xx, the server keeps answering, stored = acknowledged', async () => {
    const requests = fc.sample(anyReq, { seed: SEED, numRuns: 5000 })
    const http = await fire(server.url, requests, () => null)
    const frames = fc.sample(frame, { seed: SEED + 1, numRuns: 3000 })
    const ws = await fireFrames(`${server.url.replace('http', 'ws')}/v1/ws`, frames)

    expect(http.fiveHundreds).toEqual([])
    expect(http.clientErrors).toEqual([])
    expect(ws.unexpectedCloses).toEqual([])
    // The run did exercise both sides: many stored, many refused.
    const count = (lo: number, hi: number) => [...http.statuses].filter(([s]) => s >= lo && s < hi).reduce((n, [, c]) => n + c, 0)
    expect(count(200, 300)).toBeGreaterThan(1000)
    expect(count(400, 500)).toBeGreaterThan(1000)
    expect(http.stored.size).toBeGreaterThan(500)
    expect(ws.stored.size).toBeGreaterThan(200)

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    expect(sorted(await storedIds(server.url))).toEqual(sorted([...http.stored, ...ws.stored]))
    // GET /v1/streams agrees with the export.
    const listed = (await (await fetch(`${server.url}/v1/streams`)).json()) as { streams: { events: number }[] }
    expect(listed.streams.reduce((n, s) => n + s.events, 0)).toBe(http.stored.size + ws.stored.size)
  }, 30_000)
})

describe('fuzz, server with a JWT secret', () => {
  let server: TestServer
  let admin: string
  let creds: (string | null)[]
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'max-payload': String(MAX_PAYLOAD), 'max-batch': '20' })
    admin = await hsToken(TEST_SECRET, { publish: ['**'], subscribe: ['**'], admin: true }, { sub: 'root', expiresInSec: 3600 })
    const limited = await hsToken(TEST_SECRET, { publish: ['fz.p.1.*', 'fz.p.2.**'], subscribe: ['fz.p.1.**'] }, { sub: 'tenant', expiresInSec: 3600 })
    const ticketRes = await fetch(`${server.url}/v1/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: '{"subscribe":["fz.p.*.*"]}' })
    const { ticket } = (await ticketRes.json()) as { ticket: string }
    creds = [null, admin, admin, limited, limited, ticket, await hsToken(TEST_SECRET, { publish: ['**'] }, { expiresInSec: -10 }), noneToken({ publish: ['**'] }), tamper(admin), 'garbage', 'rct1.x.y']
  })
  afterAll(() => server.close())

  test('random requests with random credentials: no 5xx, only authorised publishes stored', async () => {
    const requests = fc.sample(anyReq, { seed: SEED + 2, numRuns: 3000 })
    const choice = fc.sample(fc.nat({ max: 10_000 }), { seed: SEED + 3, numRuns: requests.length })
    const http = await fire(server.url, requests, (i) => creds[choice[i] % creds.length])
    // A tenant's socket: its publishes outside fz.p.1.* and fz.p.2.** are refused and must not be stored.
    const frames = fc.sample(frame, { seed: SEED + 4, numRuns: 1500 })
    const ws = await fireFrames(`${server.url.replace('http', 'ws')}/v1/ws?access_token=${creds[3]}`, frames)
    expect(http.fiveHundreds).toEqual([])
    expect(http.clientErrors).toEqual([])
    expect(ws.unexpectedCloses).toEqual([])
    expect(http.statuses.get(401)).toBeGreaterThan(300)
    expect(http.statuses.get(403)).toBeGreaterThan(100)
    expect(http.stored.size).toBeGreaterThan(50)
    expect(ws.stored.size).toBeGreaterThan(20)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    const ids = await storedIds(server.url, { Authorization: `Bearer ${admin}` })
    expect(sorted(ids)).toEqual(sorted([...http.stored, ...ws.stored]))
  }, 30_000)
})
