import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config'
import { AuthConfigError } from '../../src/server'
import { startTestServer } from '../helpers/start-server'
import { hsToken, keyPair, TEST_SECRET } from '../helpers/tokens'
import { bearer, call } from './support'
import { configError } from '../helpers/config-error'

// Auth settings that cannot work stop start-up with one line naming the setting, and never
// echo a secret; a running server never writes a token or ticket to its log.

const dir = mkdtempSync(join(tmpdir(), 'ringcast-startup-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const SHORT = 'hunter2-pw' // 10 characters: too short, and must never be printed


/** Runs `ringcast serve` from source with these arguments; resolves with its exit code and stderr. */
async function serve(args: string[]): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--port', '0', '--data', ':memory:', ...args], { cwd: join(import.meta.dir, '../..'), stderr: 'pipe', stdout: 'pipe' })
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  return { code, stderr }
}

describe('--jwt-secret', () => {
  test('shorter than 16 characters: the error names the setting, never the value (flag, env, config file)', () => {
    const fromFlag = configError(() => loadConfig({ 'jwt-secret': SHORT }, {}, () => '{}'))
    expect(fromFlag.message).toContain('--jwt-secret')
    expect(fromFlag.message).toContain('16')
    expect(fromFlag.message).not.toContain(SHORT)
    const fromEnv = configError(() => loadConfig({}, { RINGCAST_JWT_SECRET: SHORT }, () => '{}'))
    expect(fromEnv.message).toContain('RINGCAST_JWT_SECRET')
    expect(fromEnv.message).not.toContain(SHORT)
    const fromFile = configError(() => loadConfig({ config: '/etc/rc.json' }, {}, () => JSON.stringify({ jwtSecret: SHORT })))
    expect(fromFile.message).toContain('jwtSecret')
    expect(fromFile.message).not.toContain(SHORT)
  })

  test('16 characters are enough', () => {
    expect(loadConfig({ 'jwt-secret': 'x'.repeat(16) }, {}, () => '{}').jwtSecret).toBe('x'.repeat(16))
  })

  test('the serve command prints one line naming --jwt-secret, without the secret, and exits 1', async () => {
    const { code, stderr } = await serve(['--jwt-secret', SHORT])
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain('--jwt-secret')
    expect(stderr).not.toContain(SHORT)
  })
})

describe('--jwt-key', () => {
  test('a missing file is an AuthConfigError naming --jwt-key', async () => {
    const error = await startTestServer({ 'jwt-key': '/nonexistent/key.pem' }, mkdtempSync(join(dir, 's-'))).then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(AuthConfigError)
    expect((error as Error).message).toContain('--jwt-key')
    expect((error as Error).message).toContain('/nonexistent/key.pem')
  })

  test('a file that is neither PEM nor JWKS is an AuthConfigError naming --jwt-key', async () => {
    for (const [name, text] of [
      ['garbage.pem', 'this is not a key'],
      ['truncated.pem', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----\n'],
      ['broken.json', '{"keys": [ '],
      ['nokeys.json', '{"issuer": "x"}'],
    ]) {
      const path = join(dir, name)
      writeFileSync(path, text)
      const error = await startTestServer({ 'jwt-key': path }, mkdtempSync(join(dir, 's-'))).then(
        () => null,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(AuthConfigError)
      expect((error as Error).message).toContain('--jwt-key')
    }
  })

  test('the serve command prints one line naming --jwt-key and exits 1', async () => {
    const { code, stderr } = await serve(['--jwt-key', '/nonexistent/key.pem'])
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain('--jwt-key')
  })

  test('a PEM public key file starts a server that verifies with it', async () => {
    const keys = await keyPair('EdDSA')
    const server = await startTestServer({ 'jwt-key': await keys.writePem(dir) }, mkdtempSync(join(dir, 's-')))
    try {
      const token = await keys.sign({ subscribe: ['a.*'] }, { sub: 'x', expiresInSec: 60 })
      expect((await call(`${server.url}/v1/streams/a.b/events`, { headers: bearer(token) })).status).toBe(200)
      expect((await call(`${server.url}/v1/streams/a.b/events`)).status).toBe(401)
    } finally {
      await server.close()
    }
  })
})

describe('open mode', () => {
  test('without keys the server says loudly that it is open', async () => {
    const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--port', '0', '--data', ':memory:'], { cwd: join(import.meta.dir, '../..'), stderr: 'pipe', stdout: 'pipe' })
    let stderr = ''
    const decoder = new TextDecoder()
    for await (const chunk of proc.stderr as unknown as AsyncIterable<Uint8Array>) {
      stderr += decoder.decode(chunk, { stream: true })
      if (stderr.includes('listening')) break
    }
    proc.kill()
    await proc.exited
    expect(stderr).toMatch(/WARN .*OPEN/)
    expect(stderr).toContain('127.0.0.1')
  })
})

describe('no credential in the log', () => {
  test('tokens and tickets, valid or not, never reach the log at debug level', async () => {
    const server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'log-level': 'debug', 'max-connections': '2' }, mkdtempSync(join(dir, 's-')))
    const written: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk))
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof process.stderr.write
    const secrets: string[] = []
    try {
      const token = await hsToken(TEST_SECRET, { publish: ['a.**'], subscribe: ['a.**'], admin: true }, { sub: 'u', expiresInSec: 60 })
      const expired = await hsToken(TEST_SECRET, { subscribe: ['a.**'] }, { sub: 'u', expiresInSec: -60 })
      const minted = JSON.parse((await call(`${server.url}/v1/tickets`, { method: 'POST', headers: { ...bearer(token), 'Content-Type': 'application/json' }, body: '{"subscribe":["a.b"]}' })).text)
      secrets.push(token, expired, minted.ticket, TEST_SECRET)
      // The signature part is what must stay private; look for it alone too.
      secrets.push(token.split('.')[2], minted.ticket.split('.')[2])
      await call(`${server.url}/v1/streams/a.b/events?access_token=${minted.ticket}`)
      await call(`${server.url}/v1/streams/a.b/events?access_token=${expired}`)
      await call(`${server.url}/v1/streams/a.b/events`, { method: 'POST', headers: { ...bearer(token), 'Content-Type': 'application/json' }, body: '{"data":1}' })
      await call(`${server.url}/v1/streams/a.b/events`, { headers: { Cookie: `ringcast_token=${expired}` } })
      // Errors that are logged (503s) with a credential on the request.
      const held = [0, 1].map(() => fetch(`${server.url}/v1/streams/a.b/events`, { headers: { Accept: 'text/event-stream', ...bearer(token) } }))
      const responses = await Promise.all(held)
      expect((await call(`${server.url}/v1/streams/a.b/events?access_token=${token}`, { headers: { Accept: 'text/event-stream' } })).status).toBe(503)
      for (const r of responses) await r.body?.cancel()
    } finally {
      process.stderr.write = write
      await server.close()
    }
    // The run did log something (so the check is not vacuous), and none of it is a credential.
    expect(written.join('').length).toBeGreaterThan(0)
    for (const s of secrets) expect(written.join('')).not.toContain(s)
  })
})
