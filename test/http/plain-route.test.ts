import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { metric } from '../helpers/raw-clients'
import { publish, startTestServer, type TestServer } from '../helpers/start-server'
import { hsToken, TEST_SECRET } from '../helpers/tokens'

// Plain polls of one stream are answered by Bun's own route, everything else by the Elysia route behind it.
// An unknown query parameter (which the API tolerates) sends a request the Elysia way, so each pair below
// is the same request through both: they must answer alike.

describe('plain polls and the Elysia route answer alike', () => {
  let server: TestServer
  const path = '/v1/streams/plain.a/events'

  beforeAll(async () => {
    server = await startTestServer()
    for (let i = 1; i <= 3; i++) expect((await publish(server.url, 'plain.a', { type: 't', data: { i } })).status).toBe(201)
  })
  afterAll(() => server.close())

  test.each(['', '?after=0', '?after=1&limit=1', '?limit=2', '?after=3&wait=0', '?wait=1&after=2', '?after=0&access_token=ignored-when-open', '?after=99'])(
    'GET %s',
    async (query) => {
      const fast = await fetch(`${server.url}${path}${query}`)
      const slow = await fetch(`${server.url}${path}${query}${query ? '&' : '?'}cache_buster=1`)
      expect(fast.status).toBe(slow.status)
      expect(fast.headers.get('content-type')).toBe(slow.headers.get('content-type'))
      expect(await fast.text()).toBe(await slow.text())
    },
  )

  test('a long-poll through the plain route waits for the next event', async () => {
    const waiting = fetch(`${server.url}${path}?after=3&wait=10`)
    const stored = await publish(server.url, 'plain.a', { type: 't', data: { i: 4 } })
    const page = (await (await waiting).json()) as { events: { id: number }[]; next: number }
    expect(page.events.map((e) => e.id)).toEqual([stored.body.id])
    expect(page.next).toBe(stored.body.id)
  })

  test.each([
    ['a bound crossed', '?wait=61', 'invalid_request'],
    ['a fraction', '?after=1.5', 'invalid_request'],
    ['an empty value', '?after=', 'invalid_request'],
    ['a bad name', '', 'bad_name'],
  ])('%s still gets the Elysia route\'s problem', async (_, query, code) => {
    const target = code === 'bad_name' ? '/v1/streams/bad..name/events' : path
    const res = await fetch(`${server.url}${target}${query}`)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(((await res.json()) as { code: string }).code).toBe(code)
  })
})

describe('refusals on the plain route', () => {
  let server: TestServer
  let admin: Record<string, string>

  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'max-connections-per-client': '1' })
    admin = { authorization: `Bearer ${await hsToken(TEST_SECRET, { admin: true }, { sub: 'admin' })}` }
  })
  afterAll(() => server.close())

  test('no token: 401 problem, counted like any refusal', async () => {
    const unauthorized = () => metric(server.url, 'ringcast_requests_rejected_total', '{code="unauthorized"}', admin)
    const before = await unauthorized()
    const res = await fetch(`${server.url}/v1/streams/plain.b/events?after=0`)
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(((await res.json()) as { code: string }).code).toBe('unauthorized')
    expect(await unauthorized()).toBe(before + 1)
  })

  test('a second waiting long-poll past the per-client cap: 429', async () => {
    const token = await hsToken(TEST_SECRET, { subscribe: ['plain.*'], publish: ['plain.*'] }, { sub: 'poller' })
    const headers = { authorization: `Bearer ${token}` }
    const first = fetch(`${server.url}/v1/streams/plain.b/events?after=0&wait=30`, { headers })
    // The first is registered once /v1/connections lists it; only then is the cap reached.
    for (;;) {
      const list = (await (await fetch(`${server.url}/v1/connections`, { headers: admin })).json()) as { connections: unknown[] }
      if (list.connections.length === 1) break
    }
    const second = await fetch(`${server.url}/v1/streams/plain.b/events?after=0&wait=30`, { headers })
    expect(second.status).toBe(429)
    expect(((await second.json()) as { code: string }).code).toBe('too_many_client_connections')
    expect((await publish(server.url, 'plain.b', { type: 't', data: 1 }, headers)).status).toBe(201)
    expect(((await (await first).json()) as { events: unknown[] }).events).toHaveLength(1)
  })
})
