import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestServer, type TestServer } from '../helpers/start-server'
import { SseClient } from '../helpers/sse-client'
import { hsToken, TEST_SECRET } from '../helpers/tokens'
import { WsTestClient } from '../helpers/ws-client'
import { type Answer, bearer, call, exported, roundTrip, upgradeStatus } from './support'

// Each limit is hit, answered as the design says (status, problem+json, Retry-After), and
// recovered from: the server serves normally once the client backs off.

const ADMIN = { publish: ['**'], subscribe: ['**'], admin: true }
const CLAIM = { publish: ['lim.**'], subscribe: ['lim.**'] }

const postJson = (base: string, stream: string, body: unknown, headers: Record<string, string> = {}) =>
  call(`${base}/v1/streams/${stream}/events`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })

function expectProblem(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status)
  expect(answer.contentType).toStartWith('application/problem+json')
  expect(JSON.parse(answer.text)).toMatchObject({ status, code })
}

/** Polls `check` until it holds: for server-side state no event announces (a connection released after the client left). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached')
    await Bun.sleep(20)
  }
}

/** An SSE subscription that has been accepted (status 200 and its first bytes). */
async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const client = SseClient.open(url, headers)
  expect((await client.opened()).status).toBe(200)
  await client.until((f) => f.comments.includes('ringcast'))
  return client
}

/** A refused SSE subscription: the problem it was answered with. */
async function refusedSse(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers } })
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers }
}

describe('--publish-rate 5 (per client, burst of one second)', () => {
  let server: TestServer
  let alice: string
  let bob: string
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'publish-rate': '5' })
    alice = await hsToken(TEST_SECRET, CLAIM, { sub: 'alice', expiresInSec: 600 })
    bob = await hsToken(TEST_SECRET, CLAIM, { sub: 'bob', expiresInSec: 600 })
  })
  afterAll(() => server.close())

  test('the 6th event of a burst gets 429 with Retry-After; after waiting that long it succeeds; another client is unaffected', async () => {
    const statuses: number[] = []
    let refused: Answer | undefined
    for (let n = 1; n <= 6; n++) {
      const answer = await postJson(server.url, 'lim.rate', { data: n }, bearer(alice))
      statuses.push(answer.status)
      if (answer.status === 429) refused = answer
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429])
    expectProblem(refused!, 429, 'rate_limited')
    const retryAfter = Number(refused!.headers.get('retry-after'))
    expect(Number.isInteger(retryAfter)).toBe(true)
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(2)

    // Another subject has its own bucket.
    expect((await postJson(server.url, 'lim.rate', { data: 'bob' }, bearer(bob))).status).toBe(201)
    // The refused event was not stored.
    const admin = await hsToken(TEST_SECRET, ADMIN, { sub: 'root', expiresInSec: 600 })
    expect((await exported(server.url, 'lim.rate', bearer(admin))).map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 'bob'])

    await Bun.sleep(retryAfter * 1000) // the property is about time
    expect((await postJson(server.url, 'lim.rate', { data: 7 }, bearer(alice))).status).toBe(201)
  })

  test('a batch counts per event, and WebSocket publishes draw from the same bucket', async () => {
    const carol = await hsToken(TEST_SECRET, CLAIM, { sub: 'carol', expiresInSec: 600 })
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ data: i }))
    expect((await postJson(server.url, 'lim.batch', batch(3), bearer(carol))).status).toBe(201)
    // Two tokens left: a batch of three is refused whole, nothing of it stored.
    expectProblem(await postJson(server.url, 'lim.batch', batch(3), bearer(carol)), 429, 'rate_limited')
    expect((await postJson(server.url, 'lim.batch', batch(2), bearer(carol))).status).toBe(201)
    const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws?access_token=${carol}`)
    const answer = await roundTrip(ws, { op: 'publish', ref: 'r', stream: 'lim.batch', data: 'ws' }, (m) => m.ref === 'r')
    expect(answer).toMatchObject({ op: 'error', ref: 'r', error: { code: 'rate_limited' } })
    expect(answer.error.retryAfter).toBeGreaterThan(0)
    ws.close()
    const admin = await hsToken(TEST_SECRET, ADMIN, { sub: 'root', expiresInSec: 600 })
    expect((await exported(server.url, 'lim.batch', bearer(admin))).length).toBe(5)
  })
})

describe('--max-connections 3 (all clients)', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ 'max-connections': '3' })
  })
  afterAll(() => server.close())

  const count = async () => (JSON.parse((await call(`${server.url}/v1/connections`)).text).connections as unknown[]).length

  test('the 4th SSE gets 503; after one closes a new one is accepted', async () => {
    const open = [0, 1, 2].map((i) => openSse(`${server.url}/v1/streams/lim.c.${i}/events`))
    const clients = await Promise.all(open)
    expect(await count()).toBe(3)
    expectProblem(await refusedSse(`${server.url}/v1/streams/lim.c.3/events`), 503, 'too_many_connections')
    // A long-poll that would wait is a connection too; a poll that answers at once is not.
    expectProblem(await call(`${server.url}/v1/streams/lim.c.3/events?after=0&wait=5`), 503, 'too_many_connections')
    expect((await call(`${server.url}/v1/streams/lim.c.3/events?after=0`)).status).toBe(200)

    clients[0].close()
    await eventually(async () => (await count()) === 2)
    const again = await openSse(`${server.url}/v1/streams/lim.c.4/events`)
    // Still fully working: the new subscriber gets events.
    expect((await postJson(server.url, 'lim.c.4', { data: 'after' })).status).toBe(201)
    expect(JSON.parse((await again.next()).data!).data).toBe('after')
    for (const c of [again, clients[1], clients[2]]) c.close()
    await eventually(async () => (await count()) === 0)
  })

  test('WebSocket connections count: a full server refuses the upgrade with 503; sockets hold places', async () => {
    const sse = await Promise.all([0, 1].map((i) => openSse(`${server.url}/v1/streams/lim.w.${i}/events`)))
    const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws`)
    await eventually(async () => (await count()) === 3)
    expectProblem(await refusedSse(`${server.url}/v1/streams/lim.w.9/events`), 503, 'too_many_connections')
    expectProblem(await upgradeStatus(`${server.url}/v1/ws`), 503, 'too_many_connections')
    // The first socket is unaffected.
    expect((await roundTrip(ws, { op: 'ping', ref: 'p' }, (m) => m.op === 'pong')).ref).toBe('p')
    ws.close()
    await eventually(async () => (await count()) === 2)
    const next = await openSse(`${server.url}/v1/streams/lim.w.3/events`)
    for (const c of [...sse, next]) c.close()
  })
})

describe('--max-connections-per-client 2 (by token subject)', () => {
  let server: TestServer
  let alice: string
  let alice2: string
  let bob: string
  let admin: string
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'max-connections-per-client': '2' })
    alice = await hsToken(TEST_SECRET, CLAIM, { sub: 'alice', expiresInSec: 600 })
    // Another token of the same subject: limits count subjects, not tokens.
    alice2 = await hsToken(TEST_SECRET, { subscribe: ['lim.**'] }, { sub: 'alice', expiresInSec: 600 })
    bob = await hsToken(TEST_SECRET, CLAIM, { sub: 'bob', expiresInSec: 600 })
    admin = await hsToken(TEST_SECRET, ADMIN, { sub: 'root', expiresInSec: 600 })
  })
  afterAll(() => server.close())

  const countOf = async () => (JSON.parse((await call(`${server.url}/v1/connections`, { headers: bearer(admin) })).text).connections as unknown[]).length

  test("a third SSE for the same sub gets 429 while another sub still connects; freed places are reusable", async () => {
    const a1 = await openSse(`${server.url}/v1/streams/lim.p.1/events`, bearer(alice))
    const a2 = await openSse(`${server.url}/v1/streams/lim.p.2/events`, bearer(alice2))
    expectProblem(await refusedSse(`${server.url}/v1/streams/lim.p.3/events`, bearer(alice)), 429, 'too_many_client_connections')
    const b1 = await openSse(`${server.url}/v1/streams/lim.p.1/events`, bearer(bob))
    // A ticket's connections count against the subject it was traded for.
    const minted = await call(`${server.url}/v1/tickets`, { method: 'POST', headers: { ...bearer(alice), 'Content-Type': 'application/json' }, body: '{"subscribe":["lim.p.4"]}' })
    const { ticket } = JSON.parse(minted.text)
    expectProblem(await refusedSse(`${server.url}/v1/streams/lim.p.4/events?access_token=${ticket}`), 429, 'too_many_client_connections')

    a1.close()
    await eventually(async () => (await countOf()) === 2)
    const a3 = await openSse(`${server.url}/v1/streams/lim.p.4/events?access_token=${ticket}`)
    for (const c of [a2, a3, b1]) c.close()
    await eventually(async () => (await countOf()) === 0)
  })

  test('WebSocket connections count too: a third upgrade gets 429, and a socket blocks a third SSE', async () => {
    const wsUrl = `${server.url.replace('http', 'ws')}/v1/ws?access_token=`
    const s1 = await openSse(`${server.url}/v1/streams/lim.q.1/events`, bearer(alice))
    const w1 = await WsTestClient.open(`${wsUrl}${alice}`)
    await eventually(async () => (await countOf()) === 2)
    expectProblem(await refusedSse(`${server.url}/v1/streams/lim.q.2/events`, bearer(alice)), 429, 'too_many_client_connections')
    expectProblem(await upgradeStatus(`${server.url}/v1/ws?access_token=${alice}`), 429, 'too_many_client_connections')
    const wb = await WsTestClient.open(`${wsUrl}${bob}`)
    expect((await roundTrip(wb, { op: 'subscribe', sub: 's', streams: ['lim.q.*'] }, (m) => m.sub === 's')).op).toBe('ok')
    expect((await roundTrip(w1, { op: 'ping', ref: 'p' }, (m) => m.op === 'pong')).ref).toBe('p')
    for (const c of [s1, w1, wb]) c.close()
    await eventually(async () => (await countOf()) === 0)
  })
})

describe('--max-payload 1000', () => {
  const LIMIT = 1000
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ 'max-payload': String(LIMIT) })
  })
  afterAll(() => server.close())

  /** A JSON event whose body is exactly `size` bytes. */
  const bodyOf = (size: number) => {
    const empty = JSON.stringify({ data: '' })
    return JSON.stringify({ data: 'x'.repeat(size - empty.length) })
  }
  const chunked = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text)
        for (let at = 0; at < bytes.length; at += 100) controller.enqueue(bytes.slice(at, at + 100))
        controller.close()
      },
    })
  const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) => call(`${server.url}/v1/streams/lim.size/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body })

  test('413 for a larger body with Content-Length and chunked; exactly the limit is accepted; nothing oversized stored', async () => {
    expect(bodyOf(LIMIT).length).toBe(LIMIT)
    expectProblem(await post(bodyOf(LIMIT + 1)), 413, 'payload_too_large')
    expectProblem(await post(bodyOf(50_000)), 413, 'payload_too_large')
    expectProblem(await post(chunked(bodyOf(LIMIT + 500))), 413, 'payload_too_large')
    // A declared length that lies low does not get a larger body through.
    expectProblem(await post(chunked(bodyOf(4 * LIMIT))), 413, 'payload_too_large')
    expect((await post(bodyOf(LIMIT))).status).toBe(201)
    expect((await post(chunked(bodyOf(LIMIT)))).status).toBe(201)
    const stored = await exported(server.url, 'lim.size', {})
    expect(stored.length).toBe(2)
  })

  test('a WebSocket frame larger than the limit closes that socket (1009); smaller frames and other sockets are served', async () => {
    const wsUrl = `${server.url.replace('http', 'ws')}/v1/ws`
    const bystander = await WsTestClient.open(wsUrl)
    const ws = await WsTestClient.open(wsUrl)
    const frame = (size: number) => {
      const empty = JSON.stringify({ op: 'publish', ref: 'big', stream: 'lim.ws', data: '' })
      return JSON.stringify({ op: 'publish', ref: 'big', stream: 'lim.ws', data: 'y'.repeat(size - empty.length) })
    }
    expect(frame(LIMIT).length).toBe(LIMIT)
    expect((await roundTrip(ws, JSON.parse(frame(LIMIT)), (m) => m.ref === 'big')).op).toBe('ok')
    ws.send(frame(LIMIT + 1))
    await ws.closed
    expect(ws.closeCode).toBe(1009)
    expect((await roundTrip(bystander, { op: 'ping', ref: 'p' }, (m) => m.op === 'pong')).ref).toBe('p')
    bystander.close()
    // Only the frame within the limit was stored.
    expect((await exported(server.url, 'lim.ws', {})).map((e) => e.data.length)).toEqual([LIMIT - JSON.stringify({ op: 'publish', ref: 'big', stream: 'lim.ws', data: '' }).length])
  })

  test('after all that, a normal publish and subscribe work', async () => {
    const sse = await openSse(`${server.url}/v1/streams/lim.size.after/events`)
    expect((await postJson(server.url, 'lim.size.after', { data: 'fine' })).status).toBe(201)
    expect(JSON.parse((await sse.next()).data!).data).toBe('fine')
    sse.close()
    expect((await call(`${server.url}/healthz`)).status).toBe(200)
  })
})

describe('--max-batch 3', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ 'max-batch': '3' })
  })
  afterAll(() => server.close())

  test('4 events are a 413 (JSON array and NDJSON), 3 are stored', async () => {
    const events = (n: number) => Array.from({ length: n }, (_, i) => ({ data: i }))
    expectProblem(await postJson(server.url, 'lim.batch', events(4)), 413, 'batch_too_large')
    const ndjson = events(4).map((e) => JSON.stringify(e)).join('\n')
    expectProblem(await call(`${server.url}/v1/streams/lim.batch/events`, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body: ndjson }), 413, 'batch_too_large')
    expect((await postJson(server.url, 'lim.batch', events(3))).status).toBe(201)
    expect((await exported(server.url, 'lim.batch', {})).map((e) => e.data)).toEqual([0, 1, 2])
  })
})
