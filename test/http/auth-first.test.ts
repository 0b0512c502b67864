import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTarget, type Target, TARGETS } from '../helpers/targets'
import { hsToken } from '../helpers/tokens'

// With auth on, an anonymous request is a 401 whatever it sends: it must not learn a schema from a 400.

const SECRET = 'auth-first-secret-0123456789'
const JSON_HEADERS = { 'Content-Type': 'application/json' }
const SSE = { Accept: 'text/event-stream' }

const requests: [string, { method?: string; path: string; headers?: Record<string, string>; body?: string }][] = [
  ['a query past its bound', { path: '/v1/streams/a.b/events?limit=1001' }],
  ['a query of the wrong type', { path: '/v1/events?stream=a.b&after=abc' }],
  ['an SSE heartbeat of 0', { path: '/v1/streams/a.b/events?heartbeat=0', headers: SSE }],
  ['a bad stream name in a poll', { path: '/v1/streams/a..b/events' }],
  ['a bad pattern', { path: '/v1/events?stream=a.**.b' }],
  ['a publish to a bad name', { method: 'POST', path: '/v1/streams/a..b/events', headers: JSON_HEADERS, body: '{"data":1}' }],
  ['a publish with malformed JSON', { method: 'POST', path: '/v1/streams/a.b/events', headers: JSON_HEADERS, body: '{"data":' }],
  ['a stream PUT with an unknown field', { method: 'PUT', path: '/v1/streams/a.b', headers: JSON_HEADERS, body: '{"colour":"red"}' }],
  ['a stream PUT with malformed JSON', { method: 'PUT', path: '/v1/streams/a.b', headers: JSON_HEADERS, body: '{"ringSize":' }],
  ['a ticket with a bad ttl', { method: 'POST', path: '/v1/tickets', headers: JSON_HEADERS, body: '{"subscribe":["a.b"],"ttl":9999}' }],
  ['a group claim without consumer', { method: 'POST', path: '/v1/groups/g1/claim', headers: JSON_HEADERS, body: '{}' }],
  ['a group PUT with a bad body', { method: 'PUT', path: '/v1/groups/g1', headers: JSON_HEADERS, body: '{"streams":"nope"}' }],
  ['a stream list with a bad pattern', { path: '/v1/streams?pattern=a.**.b' }],
]

describe.each(TARGETS)('%s', (kind) => {
  let server: Target
  beforeAll(async () => {
    server = await startTarget(kind, { 'jwt-secret': SECRET })
  })
  afterAll(() => server?.close())

  test.each(requests)('anonymous with %s gets 401', async (_, r) => {
    const res = await fetch(`${server.url}${r.path}`, { method: r.method ?? 'GET', headers: r.headers, body: r.body })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { code: string }).code).toBe('unauthorized')
  })

  test('the same bad query with a token gets the 400 that names it', async () => {
    const token = await hsToken(SECRET, { subscribe: ['**'] })
    const res = await fetch(`${server.url}/v1/streams/a.b/events?limit=1001`, { headers: { Authorization: `Bearer ${token}` } })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { detail: string }).detail).toBe('limit must be 1–1000, got 1001.')
  })
})
