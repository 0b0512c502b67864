import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type BinaryServer, requireBinary, startBinary } from '../helpers/binary'
import { hsToken, TEST_SECRET } from '../helpers/tokens'

let server: BinaryServer
let token: string
beforeAll(async () => {
  requireBinary()
  server = await startBinary({ args: ['--jwt-secret', TEST_SECRET, '--publish-rate', '3'] })
  token = await hsToken(TEST_SECRET, { publish: ['**'] }, { sub: 'rate-test' })
})
afterAll(async () => {
  await server?.dispose()
})

const publish = (auth: string, body: unknown) =>
  fetch(`${server.url}/v1/streams/rate.1/events`, { method: 'POST', headers: { Authorization: `Bearer ${auth}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })

describe('a 429 from the publish rate limit', () => {
  test('says when to retry in whole seconds, the same in the Retry-After header and the body', async () => {
    expect((await publish(token, [{ data: 1 }, { data: 2 }, { data: 3 }])).status).toBe(201)
    const refused = await publish(token, { data: 4 })
    expect(refused.status).toBe(429)
    const body = (await refused.json()) as { retryAfter: number; hint: string }
    expect(Number.isInteger(body.retryAfter)).toBe(true)
    expect(body.retryAfter).toBeGreaterThanOrEqual(1)
    expect(refused.headers.get('retry-after')).toBe(String(body.retryAfter))
    expect(body.hint).toBe(`Retry after ${body.retryAfter} s.`)
  })
})

describe('a token the server refuses', () => {
  test('signed with another secret: the hint says the keys differ, not to ask the identity provider again', async () => {
    const response = await publish(await hsToken('some-other-secret-0123456789', { publish: ['**'] }), { data: 1 })
    expect(response.status).toBe(401)
    const body = (await response.json()) as { detail: string; hint: string }
    expect(body.detail).toBe('Invalid token: token signature does not verify.')
    expect(body.hint).toContain("not signed with this server's key")
    expect(body.hint).toContain('--jwt-secret')
  })

  test('expired: the hint asks for a fresh one', async () => {
    const response = await publish(await hsToken(TEST_SECRET, { publish: ['**'] }, { expiresInSec: -60 }), { data: 1 })
    expect(response.status).toBe(401)
    expect(((await response.json()) as { hint: string }).hint).toStartWith('Get a fresh token')
  })
})
