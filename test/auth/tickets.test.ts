import { describe, expect, test } from 'bun:test'
import { Tickets } from '../../src/auth/tickets'
import { TEST_SECRET } from '../helpers/tokens'
import { useMatrix } from './matrix-fixture'
import { bearer, call, exported, json, roundTrip, sseRead, wsOpen, wsRefusal } from './support'

// Tickets and admin powers, on the credential matrix's server (matrix-fixture.ts).

const m = useMatrix()

describe('tickets', () => {
  const mint = (token: string, body: unknown) => call(`${m.base}/v1/tickets`, { method: 'POST', headers: json(bearer(token)), body: JSON.stringify(body) })

  test('a ticket is URL-safe, expires after its ttl (default 60 s) and opens SSE, polling and WebSocket within its patterns', async () => {
    const before = Date.now()
    const answer = await mint(m.userToken, { subscribe: ['team.7.job.1'] })
    expect(answer.status).toBe(201)
    const { ticket, expires } = JSON.parse(answer.text)
    expect(ticket).toMatch(/^[A-Za-z0-9._~-]+$/)
    const expiresMs = Date.parse(expires)
    expect(expiresMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 59_000)
    expect(expiresMs).toBeLessThanOrEqual(Date.now() + 61_000)

    const streamed = await sseRead(`${m.base}/v1/streams/team.7.job.1/events?after=0&access_token=${ticket}`, {}, 'T7-SECRET-3')
    expect(streamed.status).toBe(200)
    expect(streamed.text).toContain('T7-SECRET-3')
    const polled = await call(`${m.base}/v1/streams/team.7.job.1/events?after=0&access_token=${ticket}`)
    // (The matrix's publish row may have added probes to this stream; the secrets come first.)
    expect(JSON.parse(polled.text).events.map((e: { data: string }) => e.data).slice(0, 3)).toEqual(['T7-SECRET-1', 'T7-SECRET-2', 'T7-SECRET-3'])
    const ws = (await wsOpen(`${m.wsBase}?access_token=${ticket}`))!
    expect((await roundTrip(ws, { op: 'subscribe', sub: 'a', streams: ['team.7.job.1'], after: 0 }, (m) => m.sub === 'a')).op).toBe('ok')
    expect((await ws.events(3)).map((e) => e.data)).toEqual(['T7-SECRET-1', 'T7-SECRET-2', 'T7-SECRET-3'])
    // Outside the ticket, though inside the token it came from: refused.
    const outside = await roundTrip(ws, { op: 'subscribe', sub: 'b', streams: ['team.7.job.*'], after: 0 }, (m) => m.sub === 'b')
    expect(outside).toMatchObject({ op: 'error', error: { code: 'forbidden' } })
    ws.close()
  })

  test('a ticket is refused (403) for publish, admin routes, other tickets and patterns outside it', async () => {
    const { ticket } = JSON.parse((await mint(m.adminToken, { subscribe: ['team.7.job.1'] })).text)
    const q = `access_token=${ticket}`
    const statuses = {
      publish: (await call(`${m.base}/v1/streams/team.7.job.1/events?${q}`, { method: 'POST', headers: json({}), body: '{"data":"TICKET-PUBLISH"}' })).status,
      close: (await call(`${m.base}/v1/streams/team.7.job.1/close?${q}`, { method: 'POST' })).status,
      put: (await call(`${m.base}/v1/streams/team.7.job.1?${q}`, { method: 'PUT', headers: json({}), body: '{"ringSize":8}' })).status,
      delete: (await call(`${m.base}/v1/streams/team.7.job.1?${q}`, { method: 'DELETE' })).status,
      connections: (await call(`${m.base}/v1/connections?${q}`)).status,
      metrics: (await call(`${m.base}/metrics?${q}`)).status,
      ticket: (await call(`${m.base}/v1/tickets?${q}`, { method: 'POST', headers: json({}), body: '{"subscribe":["team.7.job.1"]}' })).status,
      sibling: (await call(`${m.base}/v1/streams/team.7.job.2/events?after=0&${q}`)).status,
      wider: (await call(`${m.base}/v1/events?stream=team.7.job.*&after=0&${q}`)).status,
      other: (await sseRead(`${m.base}/v1/streams/team.8.job.1/events?after=0&${q}`, {}, 'T8-SECRET-3')).status,
    }
    expect(statuses).toEqual({ publish: 403, close: 403, put: 403, delete: 403, connections: 403, metrics: 403, ticket: 403, sibling: 403, wider: 403, other: 403 })
    const stored = (await exported(m.base, 'team.7.job.1', bearer(m.adminToken))).map((e) => e.data)
    expect(stored).not.toContain('TICKET-PUBLISH')
    expect(JSON.parse((await m.adminGet('/v1/streams/team.7.job.1')).text)).toMatchObject({ closed: false, ringSize: 1024 })
  })

  test("a ticket's patterns must lie within the token's grants (403), never widened", async () => {
    const statuses = {
      narrower: (await mint(m.userToken, { subscribe: ['team.7.job.*', 'team.7.x'] })).status,
      sibling: (await mint(m.userToken, { subscribe: ['team.8.job.1'] })).status,
      mixed: (await mint(m.userToken, { subscribe: ['team.7.job.1', 'team.8.job.1'] })).status,
      everything: (await mint(m.userToken, { subscribe: ['**'] })).status,
      crossTeam: (await mint(m.userToken, { subscribe: ['team.*.job.1'] })).status,
      wrongToken: (await mint(m.cred.wrong!, { subscribe: ['team.7.job.1'] })).status,
      admin: (await mint(m.adminToken, { subscribe: ['**'] })).status,
    }
    expect(statuses).toEqual({ narrower: 201, sibling: 403, mixed: 403, everything: 403, crossTeam: 403, wrongToken: 403, admin: 201 })
  })

  test('ttl bounds and malformed requests: 400', async () => {
    const statuses = {
      ttl600: (await mint(m.userToken, { subscribe: ['team.7.job.1'], ttl: 600 })).status,
      ttl601: (await mint(m.userToken, { subscribe: ['team.7.job.1'], ttl: 601 })).status,
      ttl0: (await mint(m.userToken, { subscribe: ['team.7.job.1'], ttl: 0 })).status,
      ttlFraction: (await mint(m.userToken, { subscribe: ['team.7.job.1'], ttl: 1.5 })).status,
      empty: (await mint(m.userToken, { subscribe: [] })).status,
      badPattern: (await mint(m.userToken, { subscribe: ['team.7.**.x'] })).status,
      extraField: (await mint(m.userToken, { subscribe: ['team.7.job.1'], publish: ['team.7.**'] })).status,
    }
    expect(statuses).toEqual({ ttl600: 201, ttl601: 400, ttl0: 400, ttlFraction: 400, empty: 400, badPattern: 400, extraField: 400 })
    const long = JSON.parse((await mint(m.userToken, { subscribe: ['team.7.job.1'], ttl: 600 })).text)
    expect(Math.abs(Date.parse(long.expires) - (Date.now() + 600_000))).toBeLessThan(2000)
  })

  test('an expired, tampered or foreign ticket gets 401 everywhere it could be used', async () => {
    const grants = { publish: [], subscribe: ['team.7.**'], isAdmin: false, subject: 'alice', expiresAtMs: null, isTicket: false }
    // Minted with the server's own key (derived from the secret) two minutes ago, for one minute.
    const expired = new Tickets(TEST_SECRET).mint(grants, ['team.7.job.1'], 60, Date.now() - 120_000).ticket
    const fresh = new Tickets(TEST_SECRET).mint(grants, ['team.7.job.1'], 60).ticket
    const foreign = new Tickets('some-other-server-secret-xyz').mint(grants, ['team.7.job.1'], 60).ticket
    const tampered = `${fresh.slice(0, -3)}${fresh.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`
    // Same signature, widened patterns.
    const [, , sig] = fresh.split('.')
    const widened = `rct1.${Buffer.from(JSON.stringify({ s: 'alice', p: ['**'], e: Math.floor(Date.now() / 1000) + 60, t: null })).toString('base64url')}.${sig}`
    // The control: a ticket minted the same way but still valid is accepted.
    expect((await call(`${m.base}/v1/streams/team.7.job.1/events?after=0&access_token=${fresh}`)).status).toBe(200)
    for (const ticket of [expired, foreign, tampered, widened, 'rct1.', 'rct1.x.y']) {
      const q = `access_token=${encodeURIComponent(ticket)}`
      const polled = await call(`${m.base}/v1/streams/team.7.job.1/events?after=0&${q}`)
      expect(polled.status).toBe(401)
      expect(polled.text).not.toContain('T7-SECRET')
      expect((await sseRead(`${m.base}/v1/streams/team.7.job.1/events?after=0&${q}`, {}, 'T7-SECRET-3')).status).toBe(401)
      expect((await wsRefusal(`${m.wsBase}?${q}`)).code).toBe(4001)
    }
    expect(JSON.parse((await call(`${m.base}/v1/streams/team.7.job.1/events?access_token=${expired}`)).text).detail).toContain('expired')
  })
})

describe('admin powers over connections', () => {
  test('an admin lists and disconnects a live subscription; the tenant cannot see or touch it', async () => {
    const stream = SseReader(`${m.base}/v1/streams/team.7.job.1/events?access_token=${m.userToken}`)
    await stream.opened
    const list = JSON.parse((await m.adminGet('/v1/connections')).text).connections as { id: string; patterns: string[] }[]
    const mine = list.find((c) => c.patterns.includes('team.7.job.1'))!
    expect(mine).toBeDefined()
    expect((await call(`${m.base}/v1/connections/${mine.id}`, { method: 'DELETE', headers: bearer(m.userToken) })).status).toBe(403)
    expect((await call(`${m.base}/v1/connections/${mine.id}`, { headers: bearer(m.userToken) })).status).toBe(403)
    expect((await m.adminGet(`/v1/connections/${mine.id}`)).status).toBe(200)
    expect((await call(`${m.base}/v1/connections/${mine.id}`, { method: 'DELETE', headers: bearer(m.adminToken) })).status).toBe(204)
    await stream.ended
    expect((await m.adminGet(`/v1/connections/${mine.id}`)).status).toBe(404)
  })
})

/** A raw SSE response: `opened` once its first bytes arrive, `ended` when the server ends it. */
function SseReader(url: string): { opened: Promise<void>; ended: Promise<void> } {
  let opened!: () => void
  const openedP = new Promise<void>((r) => (opened = r))
  const ended = (async () => {
    const res = await fetch(url, { headers: { Accept: 'text/event-stream' } })
    expect(res.status).toBe(200)
    for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>) opened()
  })()
  return { opened: openedP, ended }
}
