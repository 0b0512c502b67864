import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { BinaryServer } from '../helpers/binary'
import { startSecured } from './support'

// Security review, item 7: a malformed cookie was a 500 with a stack trace per request.

let server: BinaryServer
beforeAll(async () => {
  ;({ server } = await startSecured())
})
afterAll(() => server?.dispose())

test('a malformed ringcast_token cookie is a 401, never a 500, and logs no error', async () => {
  const res = await fetch(`${server.url}/v1/streams`, { headers: { Cookie: 'ringcast_token=%E0%A4%A' } })
  expect(res.status).toBe(401)
  expect(((await res.json()) as { code: string }).code).toBe('unauthorized')
  expect(server.stderr).not.toContain('ERROR')
})
