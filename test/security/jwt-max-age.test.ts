import { expect, test } from 'bun:test'
import { hsToken } from '../helpers/tokens'
import { SECRET, startSecured } from './support'

// Security review, item 8: tokens without exp lived forever; --jwt-max-age refuses them.

test('refuses tokens without exp or living longer; accepts the others', async () => {
  const { server: strict } = await startSecured(['--jwt-max-age', '3600'])
  try {
    const status = async (token: string) => (await fetch(`${strict.url}/v1/streams`, { headers: { Authorization: `Bearer ${token}` } })).status
    expect(await status(await hsToken(SECRET, { subscribe: ['**'] }))).toBe(401)
    expect(await status(await hsToken(SECRET, { subscribe: ['**'] }, { expiresInSec: 7200 }))).toBe(401)
    expect(await status(await hsToken(SECRET, { subscribe: ['**'] }, { expiresInSec: 1800 }))).toBe(200)
    const refused = await fetch(`${strict.url}/v1/streams`, { headers: { Authorization: `Bearer ${await hsToken(SECRET, { subscribe: ['**'] })}` } })
    expect(((await refused.json()) as { detail: string }).detail).toContain('no exp')
  } finally {
    await strict.dispose()
  }
})
