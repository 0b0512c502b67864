import { describe, expect, test } from 'bun:test'
import { securedServer } from './support'

// Security review, item 6: group routes told other tenants which groups exist and what they read.

const secured = securedServer()
const { call } = secured

describe('6: no existence leaks from groups', () => {
  test('a claim without grants is refused before any lookup; a group the token may not work looks missing', async () => {
    expect((await call('PUT', '/v1/groups/payroll', secured.tok.admin, { streams: ['hr.payroll.*'] })).status).toBe(201)
    const existing = await call('POST', '/v1/groups/payroll/claim', secured.tok.bare, { consumer: 'x' })
    const missing = await call('POST', '/v1/groups/no-such/claim', secured.tok.bare, { consumer: 'x' })
    expect([existing.status, missing.status]).toEqual([403, 403])
    expect(existing.body.detail).toBe(missing.body.detail)
    const other = await call('POST', '/v1/groups/payroll/claim', secured.tok.reader, { consumer: 'x' })
    expect(other.status).toBe(404)
    expect(JSON.stringify(other.body)).not.toContain('hr.payroll')
  })
})
