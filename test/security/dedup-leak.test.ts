import { describe, expect, test } from 'bun:test'
import { securedServer } from './support'

// Security review, item 4: a publish-only token read stored events through dedup.

const secured = securedServer()
const { call } = secured

describe('4: a publish-only token does not read stored events through dedup', () => {
  test('a dedup hit answers the id and duplicate: true, and the data only to a token that may subscribe', async () => {
    const original = await call('POST', '/v1/streams/team.7.ingest/events', secured.tok.admin, { data: { card: '4111-SECRET' } }, { 'Idempotency-Key': 'order-1001' })
    expect(original.status).toBe(201)
    const hit = await call('POST', '/v1/streams/team.7.ingest/events', secured.tok.ingest, { data: 'anything' }, { 'Idempotency-Key': 'order-1001' })
    expect(hit.status).toBe(200)
    expect(hit.body).toEqual({ id: original.body.id, stream: 'team.7.ingest', duplicate: true })
    const readerHit = await call('POST', '/v1/streams/team.7.ingest/events', secured.tok.reader, { data: 'anything' }, { 'Idempotency-Key': 'order-1001' })
    expect(readerHit.body).toMatchObject({ id: original.body.id, data: { card: '4111-SECRET' }, duplicate: true })
  })
})
