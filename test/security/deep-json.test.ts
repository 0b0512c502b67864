import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { exportNdjson } from '../helpers/binary'
import { startTarget, type Target, TARGETS } from '../helpers/targets'
import { hsToken } from '../helpers/tokens'
import { WsTestClient } from '../helpers/ws-client'

// Security review, item 1: a 100 KB body nested 50 000 deep killed the process (JSON.stringify overflowed
// the stack inside the group commit) and took the other publishes of its batch with it.

const SECRET = 'deep-json-secret-0123456789'
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
const deepBody = `{"data":${nested(50_000)}}`

describe.each(TARGETS)('%s', (kind) => {
  let server: Target
  let admin: string
  let team7: string
  beforeAll(async () => {
    server = await startTarget(kind, { 'jwt-secret': SECRET })
    admin = await hsToken(SECRET, { publish: ['**'], subscribe: ['**'], admin: true })
    team7 = await hsToken(SECRET, { publish: ['team.7.**'], subscribe: ['team.7.**'] }, { sub: 'team7' })
  })
  afterAll(() => server?.close())

  const post = (stream: string, body: string, token: string, contentType = 'application/json') =>
    fetch(`${server.url}/v1/streams/${stream}/events`, { method: 'POST', body, headers: { 'Content-Type': contentType, Authorization: `Bearer ${token}` } })

  test('the deep body is a 400 naming the limit, and every other publish of that moment is acknowledged and stored', async () => {
    const others = Array.from({ length: 50 }, (_, i) => post('calm.a', JSON.stringify({ data: i }), admin))
    const deep = post('a.b', deepBody, admin)
    const [refused, ...fine] = await Promise.all([deep, ...others])
    expect(refused.status).toBe(400)
    const problem = (await refused.json()) as { code: string; detail: string; hint: string }
    expect(problem.code).toBe('invalid_body')
    expect(problem.detail).toBe('data nests arrays and objects deeper than 64 levels.')
    expect(problem.hint).toContain('--max-depth')
    expect(fine.map((r) => r.status)).toEqual(Array(50).fill(201))
    const stored = await fetch(`${server.url}/v1/streams/calm.a/events?after=0&limit=1000`, { headers: { Authorization: `Bearer ${admin}` } })
    const page = (await stored.json()) as { events: { data: number }[] }
    expect(page.events.map((e) => e.data).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  test('64 levels are stored, 65 are refused; in a batch and in NDJSON the item is named', async () => {
    expect((await post('depth.a', `{"data":${nested(64)}}`, admin)).status).toBe(201)
    expect((await post('depth.a', `{"data":${nested(65)}}`, admin)).status).toBe(400)
    const batch = await post('depth.a', `[{"data":1},{"data":${nested(65)}}]`, admin)
    expect(batch.status).toBe(400)
    expect(((await batch.json()) as { detail: string }).detail).toStartWith('Event [1]: data nests')
    const ndjson = await post('depth.a', `{"data":1}\n{"data":${nested(50_000)}}\n`, admin, 'application/x-ndjson')
    expect(ndjson.status).toBe(400)
    const objects = `{"data":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`
    expect((await post('depth.a', objects, admin)).status).toBe(400)
  })

  test('over a WebSocket with a token that may publish only to team.7.**: an error reply, the socket and the server go on', async () => {
    const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws?access_token=${team7}`)
    try {
      ws.send(`{"op":"publish","ref":"deep","stream":"team.7.x","data":${nested(50_000)}}`)
      const reply = await ws.next((m) => m.ref === 'deep')
      expect(reply).toMatchObject({ op: 'error', ref: 'deep', error: { code: 'invalid_body' } })
      ws.send({ op: 'publish', ref: 'ok', stream: 'team.7.x', data: { fine: true } })
      expect(await ws.next((m) => m.ref === 'ok')).toMatchObject({ op: 'ok', ref: 'ok', duplicate: false })
      ws.send({ op: 'ping', ref: 'p' })
      expect(await ws.next((m) => m.ref === 'p')).toMatchObject({ op: 'pong' })
    } finally {
      ws.close()
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  test('--max-depth is a setting', async () => {
    const shallow = await startTarget(kind, { 'max-depth': '2' })
    try {
      expect((await fetch(`${shallow.url}/v1/streams/d.a/events`, { method: 'POST', body: '{"data":[[1]]}' })).status).toBe(201)
      const refused = await fetch(`${shallow.url}/v1/streams/d.a/events`, { method: 'POST', body: '{"data":[[[1]]]}' })
      expect(refused.status).toBe(400)
      expect(((await refused.json()) as { detail: string }).detail).toContain('deeper than 2 levels')
      expect((await exportNdjson(shallow.url, ['d.a'])).map((e) => e.data)).toEqual([[[1]]])
    } finally {
      await shallow.close()
    }
  })
})
