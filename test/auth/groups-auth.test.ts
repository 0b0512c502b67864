import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { MODES, startModeServer } from '../groups/modes'
import type { TestServer } from '../helpers/start-server'
import { hsToken, TEST_SECRET, tamper } from '../helpers/tokens'
import { bearer, call, roundTrip, wsOpen } from './support'

// Consumer-group routes under the same rules as the rest: group administration needs admin;
// working a group (claim, ack, nack, extend, term) needs subscribe grants covering its streams.
// Both group modes: SQLite, and Redis shared by nodes.

for (const mode of MODES) describe(mode, () => {
  let server: TestServer
  const tok: Record<string, string | null> = {}
  beforeAll(async () => {
    server = await startModeServer(mode, { 'jwt-secret': TEST_SECRET })
    tok.admin = await hsToken(TEST_SECRET, { publish: ['**'], subscribe: ['**'], admin: true }, { sub: 'root', expiresInSec: 600 })
    tok.user = await hsToken(TEST_SECRET, { publish: ['team.7.**'], subscribe: ['team.7.**'] }, { sub: 'alice', expiresInSec: 600 })
    tok.wrong = await hsToken(TEST_SECRET, { publish: ['team.8.**'], subscribe: ['team.8.**'] }, { sub: 'mallory', expiresInSec: 600 })
    tok.none = null
    tok.badSig = tamper(tok.admin)
    const put = await call(`${server.url}/v1/groups/work7`, { method: 'PUT', headers: { ...bearer(tok.admin), 'Content-Type': 'application/json' }, body: JSON.stringify({ streams: ['team.7.jobs.*'], start: 'earliest' }) })
    expect(put.status).toBe(201)
    const pub = await call(`${server.url}/v1/streams/team.7.jobs.1/events`, { method: 'POST', headers: { ...bearer(tok.admin), 'Content-Type': 'application/json' }, body: JSON.stringify({ data: 'GROUP-SECRET' }) })
    expect(pub.status).toBe(201)
  })
  afterAll(() => server.close())

  const send = (method: string, path: string, who: string, body?: unknown) =>
    call(`${server.url}${path}`, { method, headers: { ...bearer(tok[who]), ...(body !== undefined && { 'Content-Type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })

  test('group administration is admin-only', async () => {
    const rows: [string, string, unknown][] = [
      ['GET', '/v1/groups', undefined],
      ['GET', '/v1/groups/work7', undefined],
      ['PUT', '/v1/groups/work7', { ackTimeout: 30 }],
      ['POST', '/v1/groups/work7/dlq/replay', {}],
    ]
    const got: Record<string, Record<string, number>> = {}
    for (const [method, path, body] of rows) {
      const key = `${method} ${path}`
      got[key] = {}
      for (const who of ['none', 'badSig', 'wrong', 'user']) got[key][who] = (await send(method, path, who, body)).status
    }
    const want = Object.fromEntries(rows.map(([m, p]) => [`${m} ${p}`, { none: 401, badSig: 401, wrong: 403, user: 403 }]))
    expect(got).toEqual(want)
    expect((await send('GET', '/v1/groups/work7', 'admin')).status).toBe(200)
    // A refused DELETE leaves the group in place.
    expect((await send('DELETE', '/v1/groups/work7', 'user')).status).toBe(403)
    expect((await send('GET', '/v1/groups/work7', 'admin')).status).toBe(200)
  })

  test("working a group needs subscribe grants covering its streams; to others it does not exist, and a refused claim takes nothing", async () => {
    const claim = (who: string, group = 'work7') => send('POST', `/v1/groups/${group}/claim`, who, { consumer: `c-${who}`, max: 5 })
    for (const who of ['none', 'badSig']) expect((await claim(who)).status).toBe(401)
    const refused = await claim('wrong')
    const missing = await claim('wrong', 'no-such-group')
    expect(refused.status).toBe(404)
    // Existing but not theirs answers exactly as missing: no existence, no patterns.
    expect(refused.text.replace('work7', 'X')).toBe(missing.text.replace('no-such-group', 'X'))
    expect(refused.text).not.toContain('GROUP-SECRET')
    expect(refused.text).not.toContain('team.')
    for (const op of ['ack', 'nack', 'extend', 'term']) expect((await send('POST', `/v1/groups/work7/${op}`, 'wrong', { consumer: 'c-wrong', ids: [1] })).status).toBe(404)
    // The event is still there for an entitled worker.
    const ok = await claim('user')
    expect(ok.status).toBe(200)
    const { deliveries } = JSON.parse(ok.text)
    expect(deliveries.map((x: { event: { data: string } }) => x.event.data)).toEqual(['GROUP-SECRET'])
    expect(JSON.parse((await send('POST', '/v1/groups/work7/ack', 'user', { consumer: 'c-user', ids: [deliveries[0].event.id] })).text).ok).toEqual([deliveries[0].event.id])
  })

  test('WebSocket consume is refused (as a missing group) without subscribe grants covering the group; the socket stays usable', async () => {
    const ws = (await wsOpen(`${server.url.replace('http', 'ws')}/v1/ws?access_token=${tok.wrong}`))!
    const answer = await roundTrip(ws, { op: 'consume', sub: 'g', group: 'work7', consumer: 'w', max: 1 }, (m) => m.sub === 'g')
    expect(answer).toMatchObject({ op: 'error', sub: 'g', error: { code: 'not_found' } })
    expect((await roundTrip(ws, { op: 'ping', ref: 'p' }, (m) => m.op === 'pong')).ref).toBe('p')
    expect(ws.messages.some((m) => m.op === 'delivery')).toBe(false)
    ws.close()
  })

  test('a ticket subscribes but cannot work a group, over HTTP or WebSocket', async () => {
    const minted = JSON.parse((await send('POST', '/v1/tickets', 'user', { subscribe: ['team.7.jobs.*'] })).text)
    const claim = await call(`${server.url}/v1/groups/work7/claim?access_token=${minted.ticket}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ consumer: 't', max: 5 }) })
    expect(claim.status).toBe(403)
    const ws = (await wsOpen(`${server.url.replace('http', 'ws')}/v1/ws?access_token=${minted.ticket}`))!
    const answer = await roundTrip(ws, { op: 'consume', sub: 't', group: 'work7', consumer: 't', max: 1 }, (m) => m.sub === 't')
    expect(answer).toMatchObject({ op: 'error', sub: 't', error: { code: 'forbidden' } })
    ws.close()
  })
})
