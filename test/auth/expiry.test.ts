import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestServer, type TestServer } from '../helpers/start-server'
import { SseClient } from '../helpers/sse-client'
import { hsToken, TEST_SECRET } from '../helpers/tokens'
import { WsTestClient } from '../helpers/ws-client'
import { bearer, call, exported } from './support'

// A live connection ends when its token expires (SSE `event: expired`, WebSocket 4001); the
// client reconnects with a fresh token and resumes by id with nothing lost and nothing twice,
// while a publisher keeps publishing across the expiry.

const CLAIM = { publish: ['exp.**'], subscribe: ['exp.**'] }
const ADMIN = { publish: ['**'], subscribe: ['**'], admin: true }

let server: TestServer
let adminToken: string
beforeAll(async () => {
  server = await startTestServer({ 'jwt-secret': TEST_SECRET })
  adminToken = await hsToken(TEST_SECRET, ADMIN, { sub: 'root', expiresInSec: 3600 })
})
afterAll(() => server.close())

/** A token expiring at the next whole second at least 1.5 s away; returns it with its expiry (epoch ms). */
async function shortToken(claim = CLAIM): Promise<{ token: string; expMs: number }> {
  const expSec = Math.ceil((Date.now() + 1500) / 1000)
  const token = await hsToken(TEST_SECRET, claim, { sub: 'short', expiresInSec: expSec - Math.floor(Date.now() / 1000) })
  const [, payload] = token.split('.')
  return { token, expMs: JSON.parse(Buffer.from(payload, 'base64url').toString()).exp * 1000 }
}

interface Publisher {
  count(): number
  /** Resolves once `n` events in all have been published. */
  reached(n: number): Promise<void>
  /** Stops and resolves with every id published, in order. */
  stop(): Promise<number[]>
}

/** Publishes to `stream` every 30 ms until stopped. */
function publisher(stream: string): Publisher {
  const ids: number[] = []
  const waiters: { n: number; resolve: () => void }[] = []
  let isRunning = true
  const loop = (async () => {
    for (let n = 0; isRunning; n++) {
      const res = await call(`${server.url}/v1/streams/${stream}/events`, { method: 'POST', headers: { ...bearer(adminToken), 'Content-Type': 'application/json' }, body: JSON.stringify({ data: n }) })
      expect(res.status).toBe(201)
      ids.push(JSON.parse(res.text).id)
      for (const w of waiters.filter((w) => ids.length >= w.n)) w.resolve()
      await Bun.sleep(30) // pacing only, not synchronisation
    }
  })()
  return {
    count: () => ids.length,
    reached: (n) => (ids.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    stop: async () => {
      isRunning = false
      await loop
      return ids
    },
  }
}

test('SSE: `event: expired` at the expiry, the response ends, and a fresh token resumes with Last-Event-ID', async () => {
  const stream = 'exp.sse'
  const pub = publisher(stream)
  await pub.reached(2)
  const { token, expMs } = await shortToken()
  const first = SseClient.open(`${server.url}/v1/streams/${stream}/events?after=0`, bearer(token))
  expect((await first.opened()).status).toBe(200)
  const expired = await first.until((f) => f.event === 'expired', 5000)
  expect(Date.now()).toBeGreaterThanOrEqual(expMs - 50)
  await first.ended
  const received = first.frames.filter((f) => f.id !== undefined).map((f) => Number(f.id))
  expect(received.length).toBeGreaterThan(0)
  // The frame says where to resume, and it is the last id delivered.
  expect(JSON.parse(expired.data!).lastId).toBe(received[received.length - 1])
  expect(first.frames.indexOf(expired)).toBe(first.frames.length - 1)

  // The expired token is refused now; a fresh one resumes.
  expect((await call(`${server.url}/v1/streams/${stream}/events?after=0`, { headers: bearer(token) })).status).toBe(401)
  const before = pub.count()
  await pub.reached(before + 2) // events published while disconnected
  const fresh = await hsToken(TEST_SECRET, CLAIM, { sub: 'short', expiresInSec: 600 })
  const second = SseClient.open(`${server.url}/v1/streams/${stream}/events`, { ...bearer(fresh), 'Last-Event-ID': String(received[received.length - 1]) })
  await second.next() // at least one event, so the publisher's later events are live ones
  const ids = await pub.stop()
  await second.until((f) => f.id === String(ids[ids.length - 1]))
  second.close()
  const resumed = second.frames.filter((f) => f.id !== undefined).map((f) => Number(f.id))
  expect([...received, ...resumed]).toEqual(ids)
  expect((await exported(server.url, stream, bearer(adminToken))).map((e) => e.id)).toEqual(ids)
})

test('WebSocket: closed with 4001 at the expiry; a fresh token and `after` resume with nothing lost', async () => {
  const stream = 'exp.ws'
  const pub = publisher(stream)
  await pub.reached(2)
  const { token, expMs } = await shortToken()
  const wsUrl = `${server.url.replace('http', 'ws')}/v1/ws`
  const first = await WsTestClient.open(`${wsUrl}?access_token=${token}`)
  first.send({ op: 'subscribe', sub: 's', streams: [stream], after: 0 })
  await first.next((m) => m.op === 'ok' && m.sub === 's')
  await first.closed
  expect(Date.now()).toBeGreaterThanOrEqual(expMs - 50)
  expect(first.closeCode).toBe(4001)
  const received = first.messages.filter((m) => m.op === 'event').map((m) => m.event.id)
  expect(received.length).toBeGreaterThan(0)

  const before = pub.count()
  await pub.reached(before + 2)
  const fresh = await hsToken(TEST_SECRET, CLAIM, { sub: 'short', expiresInSec: 600 })
  const second = await WsTestClient.open(`${wsUrl}?access_token=${fresh}`)
  second.send({ op: 'subscribe', sub: 's', streams: [stream], after: received[received.length - 1] })
  await second.events(1)
  const ids = await pub.stop()
  await second.next((m) => m.op === 'event' && m.event.id === ids[ids.length - 1])
  second.close()
  const resumed = second.messages.filter((m) => m.op === 'event').map((m) => m.event.id)
  expect([...received, ...resumed]).toEqual(ids)
})

test("a ticket's connections end when the token it was traded for expires, though the ticket's ttl is longer", async () => {
  const { token, expMs } = await shortToken()
  const minted = await call(`${server.url}/v1/tickets`, { method: 'POST', headers: { ...bearer(token), 'Content-Type': 'application/json' }, body: JSON.stringify({ subscribe: ['exp.ticket'], ttl: 600 }) })
  expect(minted.status).toBe(201)
  const { ticket, expires } = JSON.parse(minted.text)
  // It says truthfully that it ends with the token, not 600 s from now.
  expect(Date.parse(expires)).toBe(expMs)
  const sse = SseClient.open(`${server.url}/v1/streams/exp.ticket/events?access_token=${ticket}`)
  expect((await sse.opened()).status).toBe(200)
  const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws?access_token=${ticket}`)
  ws.send({ op: 'subscribe', sub: 't', streams: ['exp.ticket'] })
  await ws.next((m) => m.op === 'ok')
  await sse.until((f) => f.event === 'expired', 5000)
  await sse.ended
  await ws.closed
  expect(ws.closeCode).toBe(4001)
  expect(Date.now()).toBeGreaterThanOrEqual(expMs - 50)
  // Nor can the ticket open anything once its token has expired (a 200 ended at once would make EventSource loop).
  const again = await call(`${server.url}/v1/streams/exp.ticket/events?access_token=${ticket}`, { headers: { Accept: 'text/event-stream' } })
  expect(again.status).toBe(401)
  expect((await call(`${server.url}/v1/streams/exp.ticket/events?access_token=${ticket}`)).status).toBe(401)
})

test('a long-poll held past the expiry is answered (empty) at the expiry, not at its wait', async () => {
  const { token, expMs } = await shortToken()
  const started = Date.now()
  const page = await call(`${server.url}/v1/streams/exp.poll/events?after=0&wait=30`, { headers: bearer(token) })
  expect(page.status).toBe(200)
  expect(JSON.parse(page.text)).toMatchObject({ events: [], next: 0 })
  expect(Date.now()).toBeGreaterThanOrEqual(expMs - 50)
  expect(Date.now() - started).toBeLessThan(10_000)
  // The connection is gone from the list.
  const list = JSON.parse((await call(`${server.url}/v1/connections`, { headers: bearer(adminToken) })).text).connections
  expect(list.filter((c: { patterns: string[] }) => c.patterns.includes('exp.poll'))).toEqual([])
})
