import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { BinaryServer } from '../helpers/binary'
import { call as callOn, startSecured, type Tokens } from './support'

// Security review, item 6: group routes told other tenants which groups exist and what they read.

let server: BinaryServer
let tok: Tokens
beforeAll(async () => {
  ;({ server, tok } = await startSecured())
})
afterAll(() => server?.dispose())
const call = (method: string, path: string, token: string | null, body?: unknown, headers?: Record<string, string>) => callOn(server, method, path, token, body, headers)

describe('6: no existence leaks from groups', () => {
  test('a claim without grants is refused before any lookup; a group the token may not work looks missing', async () => {
    expect((await call('PUT', '/v1/groups/payroll', tok.admin, { streams: ['hr.payroll.*'] })).status).toBe(201)
    const existing = await call('POST', '/v1/groups/payroll/claim', tok.bare, { consumer: 'x' })
    const missing = await call('POST', '/v1/groups/no-such/claim', tok.bare, { consumer: 'x' })
    expect([existing.status, missing.status]).toEqual([403, 403])
    expect(existing.body.detail).toBe(missing.body.detail)
    const other = await call('POST', '/v1/groups/payroll/claim', tok.reader, { consumer: 'x' })
    expect(other.status).toBe(404)
    expect(JSON.stringify(other.body)).not.toContain('hr.payroll')
  })
})
