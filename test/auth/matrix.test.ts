import { describe, expect, test } from 'bun:test'
import { hsToken, TEST_SECRET } from '../helpers/tokens'
import { INVALID, KINDS, type Kind, USER, useMatrix, VALID } from './matrix-fixture'
import { type Answer, bearer, call, exported, json, roundTrip, sseRead, wsOpen, wsRefusal } from './support'

// Every route and transport × every kind of credential (tickets and admin powers: tickets.test.ts).

const m = useMatrix()

interface Row {
  name: string
  send(kind: Kind, headers: Record<string, string>): Promise<Answer>
  /** Status for each valid kind (the invalid ones are always 401, unless the route is open). */
  valid: Record<'wrong' | 'user' | 'admin' | 'ticket', number>
  isOpen?: boolean
  /** A read of team.7.job.1: an allowed answer carries its events. */
  readsT7?: boolean
  /** Checks the state the request may have changed; returns a problem or null. */
  verify?(kind: Kind, answer: Answer): Promise<string | null>
}

const sse = (path: string) => (_: Kind, h: Record<string, string>) => sseRead(`${m.base}${path}`, h, 'T7-SECRET-3')
const get = (path: string, accept?: string) => (_: Kind, h: Record<string, string>) => call(`${m.base}${path}`, { headers: { ...h, ...(accept && { Accept: accept }) } })
const allow = (status: number) => ({ wrong: 403, user: status, admin: status, ticket: status })
const adminOnly = (status: number) => ({ wrong: 403, user: 403, admin: status, ticket: 403 })
const everyone = (status: number) => ({ wrong: status, user: status, admin: status, ticket: status })

const rows: Row[] = [
  {
    name: 'POST publish',
    send: (kind, h) => call(`${m.base}/v1/streams/team.7.job.1/events`, { method: 'POST', headers: json(h), body: JSON.stringify({ type: 'probe', data: `PROBE-${kind}` }) }),
    valid: { wrong: 403, user: 201, admin: 201, ticket: 403 },
    async verify(kind, answer) {
      const stored = (await exported(m.base, 'team.7.job.1', bearer(m.adminToken))).some((e) => e.data === `PROBE-${kind}`)
      return stored === (answer.status === 201) ? null : `stored=${stored} with status ${answer.status}`
    },
  },
  {
    name: 'POST close',
    send: (kind, h) => call(`${m.base}/v1/streams/team.7.close.${kind}/close`, { method: 'POST', headers: h }),
    valid: { wrong: 403, user: 200, admin: 200, ticket: 403 },
    async verify(kind, answer) {
      const closed = JSON.parse((await m.adminGet(`/v1/streams/team.7.close.${kind}`)).text).closed
      return closed === (answer.status === 200) ? null : `closed=${closed} with status ${answer.status}`
    },
  },
  { name: 'GET stream events (SSE)', send: sse('/v1/streams/team.7.job.1/events?after=0'), valid: allow(200), readsT7: true },
  { name: 'GET stream events (SSE, Last-Event-ID)', send: (_, h) => sseRead(`${m.base}/v1/streams/team.7.job.1/events`, { ...h, 'Last-Event-ID': '0' }, 'T7-SECRET-3'), valid: allow(200), readsT7: true },
  { name: 'GET stream events (polling)', send: get('/v1/streams/team.7.job.1/events?after=0'), valid: allow(200), readsT7: true },
  { name: 'GET stream events (polling, tail)', send: get('/v1/streams/team.7.job.1/events'), valid: allow(200), readsT7: true },
  { name: 'GET stream events (NDJSON export)', send: get('/v1/streams/team.7.job.1/events?after=0', 'application/x-ndjson'), valid: allow(200), readsT7: true },
  { name: 'GET /v1/events pattern (SSE)', send: sse('/v1/events?stream=team.7.**&after=0'), valid: allow(200), readsT7: true },
  { name: 'GET /v1/events pattern (polling)', send: get('/v1/events?stream=team.7.*.1&after=0'), valid: allow(200), readsT7: true },
  { name: 'GET /v1/events pattern (export)', send: get('/v1/events?stream=team.7.job.*&after=0', 'application/x-ndjson'), valid: allow(200), readsT7: true },
  { name: 'GET /v1/streams/{s}', send: get('/v1/streams/team.7.job.1'), valid: allow(200) },
  {
    name: 'GET /v1/streams (list)',
    send: get('/v1/streams'),
    valid: everyone(200),
    async verify(kind, answer) {
      if (answer.status !== 200) return null
      const names: string[] = JSON.parse(answer.text).streams.map((s: { stream: string }) => s.stream)
      const sees7 = names.includes('team.7.job.1')
      const sees8 = names.includes('team.8.job.1')
      const expected = { wrong: [false, false], user: [true, false], admin: [true, true], ticket: [true, false] }[kind as 'wrong']
      return sees7 === expected[0] && sees8 === expected[1] ? null : `lists team.7.job.1=${sees7} team.8.job.1=${sees8}`
    },
  },
  {
    name: 'PUT /v1/streams/{s}',
    send: (kind, h) => call(`${m.base}/v1/streams/team.7.cfg.${kind}`, { method: 'PUT', headers: json(h), body: JSON.stringify({ ringSize: 16 }) }),
    valid: adminOnly(200),
    async verify(kind, answer) {
      const exists = (await m.adminGet(`/v1/streams/team.7.cfg.${kind}`)).status === 200
      return exists === (answer.status === 200) ? null : `exists=${exists} with status ${answer.status}`
    },
  },
  {
    name: 'DELETE /v1/streams/{s}',
    send: (kind, h) => call(`${m.base}/v1/streams/team.7.del.${kind}`, { method: 'DELETE', headers: h }),
    valid: adminOnly(204),
    async verify(kind, answer) {
      const exists = (await m.adminGet(`/v1/streams/team.7.del.${kind}`)).status === 200
      return exists === (answer.status !== 204) ? null : `exists=${exists} with status ${answer.status}`
    },
  },
  { name: 'GET /v1/connections', send: get('/v1/connections'), valid: adminOnly(200) },
  { name: 'GET /v1/connections/{id}', send: get('/v1/connections/sse-none'), valid: adminOnly(404) },
  { name: 'DELETE /v1/connections/{id}', send: (_, h) => call(`${m.base}/v1/connections/sse-none`, { method: 'DELETE', headers: h }), valid: adminOnly(404) },
  { name: 'GET /metrics', send: get('/metrics'), valid: adminOnly(200) },
  { name: 'GET /v1/stats (newest sample)', send: get('/v1/stats'), valid: adminOnly(200) },
  {
    name: 'POST /v1/tickets',
    send: (_, h) => call(`${m.base}/v1/tickets`, { method: 'POST', headers: json(h), body: JSON.stringify({ subscribe: ['team.7.job.*'] }) }),
    valid: { wrong: 403, user: 201, admin: 201, ticket: 403 },
  },
  { name: 'GET /healthz', send: get('/healthz'), valid: everyone(200), isOpen: true },
  { name: 'GET /readyz', send: get('/readyz'), valid: everyone(200), isOpen: true },
  { name: 'GET /docs', send: get('/docs'), valid: everyone(200), isOpen: true },
  { name: 'GET / (dashboard)', send: get('/'), valid: everyone(200), isOpen: true },
  { name: 'GET /ui/app.js', send: get('/ui/app.js'), valid: everyone(200), isOpen: true },
  { name: 'GET /docs/json', send: get('/docs/json'), valid: everyone(200), isOpen: true },
]

describe('every route × every credential (Authorization header)', () => {
  for (const row of rows) {
    test(row.name, async () => {
      const statuses: Partial<Record<Kind, number>> = {}
      const expected: Partial<Record<Kind, number>> = {}
      const problems: string[] = []
      for (const kind of KINDS) {
        const credential = m.cred[kind]
        const answer = await row.send(kind, bearer(credential))
        statuses[kind] = answer.status
        expected[kind] = INVALID.includes(kind) ? (row.isOpen ? row.valid.user : 401) : row.valid[kind as 'user']
        if (answer.status >= 400) {
          if (!answer.contentType.startsWith('application/problem+json')) problems.push(`${kind}: ${answer.status} is ${answer.contentType}, not problem+json`)
          // Nothing leaks from a refused request, not even the credential it was given.
          if (/T[78]-SECRET/.test(answer.text)) problems.push(`${kind}: refused answer carries events`)
          if (credential && answer.text.includes(credential)) problems.push(`${kind}: refused answer echoes the credential`)
        } else if (row.readsT7 && !answer.text.includes('T7-SECRET-3')) {
          problems.push(`${kind}: allowed read lacks the stream's events`)
        }
        if (answer.status < 300 && row.readsT7 && answer.text.includes('T8-SECRET')) problems.push(`${kind}: read of team.7 carries team.8 events`)
        const wrongState = await row.verify?.(kind, answer)
        if (wrongState) problems.push(`${kind}: ${wrongState}`)
      }
      expect(statuses).toEqual(expected)
      expect(problems).toEqual([])
    })
  }
})

describe('credential sources', () => {
  const poll = '/v1/streams/team.7.job.1/events?after=0'
  const ways: [string, (c: string) => { path: string; headers: Record<string, string> }][] = [
    ['Authorization: Bearer', (c) => ({ path: poll, headers: bearer(c) })],
    ['ringcast_token cookie', (c) => ({ path: poll, headers: { Cookie: `theme=dark; ringcast_token=${encodeURIComponent(c)}; lang=en` } })],
    ['?access_token=', (c) => ({ path: `${poll}&access_token=${encodeURIComponent(c)}`, headers: {} })],
  ]
  for (const [name, way] of ways) {
    test(`${name}: a valid token reads, an invalid one gets 401, a wrong-scope one 403`, async () => {
      const statuses: Record<string, number> = {}
      for (const kind of ['user', 'ticket', 'expired', 'algNone', 'badSig', 'wrong'] as Kind[]) {
        const { path, headers } = way(m.cred[kind]!)
        const answer = await call(`${m.base}${path}`, { headers })
        statuses[kind] = answer.status
        if (answer.status === 200) expect(answer.text).toContain('T7-SECRET-3')
        else expect(answer.text).not.toContain('T7-SECRET')
      }
      expect(statuses).toEqual({ user: 200, ticket: 200, expired: 401, algNone: 401, badSig: 401, wrong: 403 })
    })
  }

  test('SSE with ?access_token= (what EventSource can do)', async () => {
    const ok = await sseRead(`${m.base}/v1/streams/team.7.job.1/events?after=0&access_token=${m.cred.user}`, {}, 'T7-SECRET-3')
    expect(ok.status).toBe(200)
    expect(ok.text).toContain('T7-SECRET-3')
    const refused = await sseRead(`${m.base}/v1/streams/team.8.job.1/events?after=0&access_token=${m.cred.user}`, {}, 'T8-SECRET-3')
    expect(refused.status).toBe(403)
    expect(refused.text).not.toContain('T8-SECRET')
  })

  test('a token for another key type or HMAC size is checked, not trusted: HS384 and HS512 with the secret are accepted', async () => {
    for (const alg of ['HS384', 'HS512'] as const) {
      const token = await hsToken(TEST_SECRET, USER, { sub: 'alice', expiresInSec: 60, alg })
      expect((await call(`${m.base}/v1/streams/team.7.job.1`, { headers: bearer(token) })).status).toBe(200)
    }
  })

  test('a token without a ringcast claim or with malformed patterns grants nothing', async () => {
    const bare = await hsToken(TEST_SECRET, {}, { sub: 'bob', expiresInSec: 60 })
    const malformed = await hsToken(TEST_SECRET, { subscribe: ['team.7.**.x', '', 'team..7'], publish: ['**.a'], admin: 'yes' as never }, { sub: 'bob', expiresInSec: 60 })
    for (const token of [bare, malformed]) {
      expect((await call(`${m.base}/v1/streams/team.7.job.1/events?after=0`, { headers: bearer(token) })).status).toBe(403)
      expect((await call(`${m.base}/v1/streams/team.7.x/events`, { method: 'POST', headers: json(bearer(token)), body: '{"data":1}' })).status).toBe(403)
      expect((await call(`${m.base}/v1/connections`, { headers: bearer(token) })).status).toBe(403)
      expect(JSON.parse((await call(`${m.base}/v1/streams`, { headers: bearer(token) })).text).streams).toEqual([])
    }
  })
})

describe('listing streams', () => {
  test('a ?pattern= filter narrows the list but never widens it past the grants', async () => {
    const names = async (token: string, pattern: string) =>
      (JSON.parse((await call(`${m.base}/v1/streams?pattern=${encodeURIComponent(pattern)}`, { headers: bearer(token) })).text).streams as { stream: string }[]).map((s) => s.stream)
    const userSees = await names(m.userToken, '**')
    expect(userSees).toContain('team.7.job.1')
    expect(userSees.every((n) => n.startsWith('team.7.'))).toBe(true)
    expect(await names(m.userToken, 'team.8.**')).toEqual([])
    expect(await names(m.adminToken, 'team.8.**')).toEqual(['team.8.job.1'])
    expect((await call(`${m.base}/v1/streams?pattern=team.**.x`, { headers: bearer(m.userToken) })).status).toBe(400)
  })
})

describe('pattern containment on every subscribe path (team.7.** token)', () => {
  const cases: [string, number][] = [
    ['team.7.job.*', 200],
    ['team.7.job.1', 200],
    ['team.7.**', 200],
    ['team.7.*.1', 200],
    ['team.*.job.1', 403],
    ['**', 403],
    ['team.7', 403],
    ['team.*', 403],
    ['team.8.job.1', 403],
    ['team.7.job.1,team.8.job.1', 403],
  ]
  test('polling, SSE and tickets agree on each pattern', async () => {
    const got: Record<string, number[]> = {}
    const want: Record<string, number[]> = {}
    for (const [pattern, status] of cases) {
      const q = `/v1/events?stream=${encodeURIComponent(pattern)}&after=0`
      const polled = await call(`${m.base}${q}`, { headers: bearer(m.userToken) })
      const streamed = await sseRead(`${m.base}${q}`, bearer(m.userToken), 'T7-SECRET-3')
      const ticket = await call(`${m.base}/v1/tickets`, { method: 'POST', headers: json(bearer(m.userToken)), body: JSON.stringify({ subscribe: pattern.split(',') }) })
      got[pattern] = [polled.status, streamed.status, ticket.status]
      want[pattern] = [status, status, status === 200 ? 201 : 403]
      for (const a of [polled, streamed]) {
        expect(a.text).not.toContain('T8-SECRET')
        if (a.status === 403) {
          expect(a.text).not.toContain('T7-SECRET')
          expect(JSON.parse(a.text).code).toBe('forbidden')
        }
      }
    }
    expect(got).toEqual(want)
  })

  test('WebSocket subscribe: allowed patterns replay, refused ones get a forbidden error and the socket stays usable', async () => {
    const ws = (await wsOpen(`${m.wsBase}?access_token=${m.userToken}`))!
    expect(ws).not.toBeNull()
    for (const [pattern, status] of cases) {
      const sub = `s-${pattern}`
      const answer = await roundTrip(ws, { op: 'subscribe', sub, streams: pattern.split(','), after: 0 }, (m) => m.sub === sub && (m.op === 'ok' || m.op === 'error'))
      if (status === 200) expect(answer.op).toBe('ok')
      else expect(answer).toMatchObject({ op: 'error', sub, error: { code: 'forbidden' } })
    }
    expect((await roundTrip(ws, { op: 'ping', ref: 'p' }, (m) => m.op === 'pong')).ref).toBe('p')
    expect(ws.messages.some((m) => m.op === 'event' && m.event.stream.startsWith('team.8'))).toBe(false)
    expect(ws.messages.some((m) => m.op === 'event' && m.event.data === 'T7-SECRET-3')).toBe(true)
    ws.close()
  })
})

describe('WebSocket × every credential', () => {
  test('an invalid or missing credential: one unauthorized error frame, then close 4001 (what a browser can read)', async () => {
    const refusals: Record<string, unknown> = {}
    for (const kind of INVALID) {
      const q = m.cred[kind] === null ? '' : `?access_token=${encodeURIComponent(m.cred[kind]!)}`
      const { frames, code, reason } = await wsRefusal(`${m.wsBase}${q}`)
      refusals[kind] = { frames: frames.map((f) => ({ op: f.op, code: f.error?.code, sub: f.sub })), code, reason: reason === frames[0]?.error?.message }
    }
    const told = { frames: [{ op: 'error', code: 'unauthorized', sub: undefined }], code: 4001, reason: true }
    expect(refusals).toEqual(Object.fromEntries(INVALID.map((k) => [k, told])))
    // The header and the cookie work for an upgrade too (non-browser clients).
    expect((await wsRefusal(m.wsBase, bearer(m.cred.badSig))).code).toBe(4001)
    expect((await wsRefusal(m.wsBase, { Cookie: `ringcast_token=${m.cred.expired}` })).frames[0].error.message).toContain('expired')
    const ok = await wsOpen(`${m.wsBase}?access_token=${m.userToken}`)
    expect(ok).not.toBeNull()
    ok!.close()
  })

  for (const kind of VALID) {
    test(`${kind}: subscribe and publish answered per grants, the socket stays usable`, async () => {
      const canRead = kind !== 'wrong'
      const canPublish = kind === 'user' || kind === 'admin'
      const ws = (await wsOpen(`${m.wsBase}?access_token=${encodeURIComponent(m.cred[kind]!)}`))!
      expect(ws).not.toBeNull()

      const sub = await roundTrip(ws, { op: 'subscribe', sub: 's7', streams: ['team.7.job.1'], after: 0 }, (m) => m.sub === 's7')
      if (canRead) {
        expect(sub.op).toBe('ok')
        expect((await ws.events(3)).map((e) => e.data)).toEqual(['T7-SECRET-1', 'T7-SECRET-2', 'T7-SECRET-3'])
      } else {
        expect(sub).toMatchObject({ op: 'error', sub: 's7', error: { code: 'forbidden' } })
      }
      // team.8 is outside every grant but admin's.
      const sub8 = await roundTrip(ws, { op: 'subscribe', sub: 's8', streams: ['team.8.job.1'], after: 0 }, (m) => m.sub === 's8')
      expect(sub8.op).toBe(kind === 'admin' ? 'ok' : 'error')
      if (kind !== 'admin') expect(sub8.error.code).toBe('forbidden')

      const published = await roundTrip(ws, { op: 'publish', ref: 'r1', stream: 'team.7.job.9', data: `WSPROBE-${kind}` }, (m) => m.ref === 'r1')
      if (canPublish) expect(published).toMatchObject({ op: 'ok', ref: 'r1', duplicate: false })
      else expect(published).toMatchObject({ op: 'error', ref: 'r1', error: { code: 'forbidden' } })

      // Still usable after every refusal, and nothing from a refused subscription arrived.
      expect((await roundTrip(ws, { op: 'ping', ref: 'after' }, (m) => m.op === 'pong')).ref).toBe('after')
      const events = ws.messages.filter((m) => m.op === 'event').map((m) => m.event.data)
      if (!canRead) expect(events.filter((d) => String(d).startsWith('T7-SECRET'))).toEqual([])
      if (kind !== 'admin') expect(events.filter((d) => String(d).startsWith('T8-SECRET'))).toEqual([])
      else expect(events).toContain('T8-SECRET-3')
      const stored = (await exported(m.base, 'team.7.job.9', bearer(m.adminToken))).map((e) => e.data)
      expect(stored.includes(`WSPROBE-${kind}`)).toBe(canPublish)
      ws.close()
    })
  }
})
