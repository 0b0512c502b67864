import { describe, expect, test } from 'bun:test'
import { securedServer } from './support'

// Security review, item 5: forged dead letters were replayed into streams the group never read.

const secured = securedServer()
const { call } = secured

describe('5: forged dead letters go nowhere', () => {
  test('no client may write a dead-letter stream; a real dead letter replays to its own stream', async () => {
    expect((await call('PUT', '/v1/groups/acme-billing', secured.tok.admin, { streams: ['billing.*'], start: 'latest', maxDeliveries: 1 })).status).toBe(201)
    const forged = { type: 'dead_letter', data: { event: { id: 1, stream: 'admin.commands', type: 'shutdown', data: {} }, attempts: 5, reason: 'x' } }
    for (const token of [secured.tok.dlqWriter, secured.tok.admin]) {
      const refused = await call('POST', '/v1/streams/dlq.acme-billing/events', token, forged)
      expect(refused.status).toBe(403)
      expect(refused.body.detail).toContain('only the server writes')
    }
    expect((await call('POST', '/v1/streams/dlq.acme-billing/close', secured.tok.admin)).status).toBe(403)
    const published = await call('POST', '/v1/streams/billing.1/events', secured.tok.dlqWriter, { type: 'charge', data: { amount: 5 } })
    const claimed = await call('POST', '/v1/groups/acme-billing/claim', secured.tok.dlqWriter, { consumer: 'w', max: 1 })
    expect(claimed.body.deliveries[0].event.id).toBe(published.body.id)
    expect((await call('POST', '/v1/groups/acme-billing/term', secured.tok.dlqWriter, { consumer: 'w', ids: [published.body.id] })).status).toBe(200)
    const replay = await call('POST', '/v1/groups/acme-billing/dlq/replay', secured.tok.admin, {})
    expect(replay.body.failed).toEqual([])
    expect(replay.body.replayed.map((r: { stream: string }) => r.stream)).toEqual(['billing.1'])
    const admin = await call('GET', '/v1/streams/admin.commands', secured.tok.admin)
    expect(admin.status).toBe(404)
  })
})
