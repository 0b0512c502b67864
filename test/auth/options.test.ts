import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestServer, type TestServer } from '../helpers/start-server'
import { hsToken, TEST_SECRET } from '../helpers/tokens'
import { bearer, call, upgradeStatus } from './support'

// The auth-related switches: --metrics-public opens /metrics and nothing else; --cors-origin lets
// only the listed origins read answers (refusals included, so a browser can show them).

describe('--metrics-public', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'metrics-public': 'true' })
  })
  afterAll(() => server.close())

  test('/metrics answers without a token; the admin routes still need one', async () => {
    const metrics = await call(`${server.url}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.text).toContain('ringcast_connections')
    expect((await call(`${server.url}/v1/connections`)).status).toBe(401)
    const user = await hsToken(TEST_SECRET, { subscribe: ['**'] }, { sub: 'u', expiresInSec: 60 })
    expect((await call(`${server.url}/v1/connections`, { headers: bearer(user) })).status).toBe(403)
    expect((await call(`${server.url}/v1/streams/a`, { method: 'DELETE', headers: bearer(user) })).status).toBe(403)
  })
})

describe('/metrics counts refusals by code', () => {
  let server: TestServer
  let admin: string
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET })
    admin = await hsToken(TEST_SECRET, { publish: ['**'], subscribe: ['**'], admin: true }, { sub: 'root', expiresInSec: 60 })
  })
  afterAll(() => server.close())

  test('401 and 403 answers show up in the metrics', async () => {
    const user = await hsToken(TEST_SECRET, { subscribe: ['a.*'] }, { sub: 'u', expiresInSec: 60 })
    for (let i = 0; i < 3; i++) expect((await call(`${server.url}/v1/streams/b.1/events`)).status).toBe(401)
    for (let i = 0; i < 2; i++) expect((await call(`${server.url}/v1/streams/b.1/events`, { headers: bearer(user) })).status).toBe(403)
    const text = (await call(`${server.url}/metrics`, { headers: bearer(admin) })).text
    const value = (code: string) => Number(new RegExp(`^\\S+\\{[^}]*code="${code}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
    // At least these (the metrics scrape itself is authorised).
    expect(value('unauthorized')).toBeGreaterThanOrEqual(3)
    expect(value('forbidden')).toBeGreaterThanOrEqual(2)
  })
})

describe('--cors-origin', () => {
  let server: TestServer
  const ALLOWED = 'https://app.example'
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'cors-origin': ALLOWED })
  })
  afterAll(() => server.close())

  test('a preflight from the allowed origin is answered; another origin gets no CORS headers', async () => {
    const preflight = (origin: string) =>
      call(`${server.url}/v1/streams/a.b/events`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' } })
    const ok = await preflight(ALLOWED)
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')
    const other = await preflight('https://evil.example')
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('a refusal carries the CORS headers for the allowed origin only, so only its page can read why', async () => {
    const refused = await call(`${server.url}/v1/streams/a.b/events`, { headers: { Origin: ALLOWED } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    const foreign = await call(`${server.url}/v1/streams/a.b/events`, { headers: { Origin: 'https://evil.example' } })
    expect(foreign.status).toBe(401)
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('the ringcast_token cookie across origins', () => {
  let server: TestServer
  let token: string
  const ALLOWED = 'https://app.example'
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'cors-origin': ALLOWED })
    token = await hsToken(TEST_SECRET, { subscribe: ['a.**'] }, { sub: 'u', expiresInSec: 60 })
  })
  afterAll(() => server.close())

  test('a cross-site page cannot ride on the cookie; a listed origin, the same origin and a Bearer header can', async () => {
    const poll = (headers: Record<string, string>) => call(`${server.url}/v1/streams/a.b/events`, { headers }).then((a) => a.status)
    const cookie = { Cookie: `ringcast_token=${token}` }
    expect({
      noOrigin: await poll(cookie),
      sameOrigin: await poll({ ...cookie, Origin: server.url }),
      listed: await poll({ ...cookie, Origin: ALLOWED }),
      crossSite: await poll({ ...cookie, Origin: 'https://evil.example' }),
      crossSiteBearer: await poll({ ...bearer(token), Origin: 'https://evil.example' }),
    }).toEqual({ noOrigin: 200, sameOrigin: 200, listed: 200, crossSite: 401, crossSiteBearer: 200 })
  })

  test('a WebSocket upgrade from an unlisted origin is refused even with a valid token', async () => {
    const upgrade = (origin: string) => upgradeStatus(`${server.url}/v1/ws?access_token=${token}`, { Origin: origin })
    const refused = await upgrade('https://evil.example')
    expect(refused.status).toBe(403)
    expect(JSON.parse(refused.text).code).toBe('forbidden')
  })
})
