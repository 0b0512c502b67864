import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestServer, type TestServer } from '../helpers/start-server'
import { type AsymmetricAlg, type Claim, hsToken, type KeyPair, keyPair, noneToken, TEST_SECRET, tamper } from '../helpers/tokens'
import { bearer, call } from './support'

// Each kind of key the server takes (--jwt-key as PEM or JWKS, --jwt-secret) accepts the tokens
// it should and refuses the rest; aud and iss are checked when configured.

const CLAIM: Claim = { publish: ['k.**'], subscribe: ['k.**'] }
const dir = mkdtempSync(join(tmpdir(), 'ringcast-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The status of a poll of k.1 with this credential: 200 means the token was accepted. */
async function statusWith(server: TestServer, token: string): Promise<number> {
  return (await call(`${server.url}/v1/streams/k.1/events`, { headers: bearer(token) })).status
}

const cases: [string, AsymmetricAlg, 'pem' | 'jwks'][] = [
  ['RS256 PEM', 'RS256', 'pem'],
  ['RS256 JWKS', 'RS256', 'jwks'],
  ['ES256 JWKS', 'ES256', 'jwks'],
  ['ES256 PEM', 'ES256', 'pem'],
  ['EdDSA PEM', 'EdDSA', 'pem'],
  ['EdDSA JWKS', 'EdDSA', 'jwks'],
]

for (const [name, alg, form] of cases) {
  describe(`--jwt-key ${name}`, () => {
    let server: TestServer
    let keys: KeyPair
    let stranger: KeyPair
    let keyFile: string
    beforeAll(async () => {
      keys = await keyPair(alg)
      // Same algorithm, same kid, another key: only the signature can tell them apart.
      stranger = await keyPair(alg)
      keyFile = form === 'pem' ? await keys.writePem(mkdtempSync(join(dir, 'k-'))) : await keys.writeJwks(mkdtempSync(join(dir, 'k-')))
      server = await startTestServer({ 'jwt-key': keyFile })
    })
    afterAll(() => server.close())

    test('accepts its own tokens and refuses forged, foreign, unsigned, HMAC-confused and expired ones', async () => {
      const valid = await keys.sign(CLAIM, { sub: 'a', expiresInSec: 60 })
      const pemText = await Bun.file(keyFile).text()
      const statuses = {
        valid: await statusWith(server, valid),
        noExp: await statusWith(server, await keys.sign(CLAIM, { sub: 'a' })),
        otherKey: await statusWith(server, await stranger.sign(CLAIM, { sub: 'a', expiresInSec: 60 })),
        tampered: await statusWith(server, tamper(valid)),
        algNone: await statusWith(server, noneToken(CLAIM, { sub: 'a', expiresInSec: 60 })),
        // The classic confusion: HS256 "signed" with the public key text. No secret is configured, so no HMAC at all.
        hmacWithPublicKey: await statusWith(server, await hsToken(pemText, CLAIM, { sub: 'a', expiresInSec: 60 })),
        hmac: await statusWith(server, await hsToken(TEST_SECRET, CLAIM, { sub: 'a', expiresInSec: 60 })),
        expired: await statusWith(server, await keys.sign(CLAIM, { sub: 'a', expiresInSec: -60 })),
        notYet: await statusWith(server, await keys.sign(CLAIM, { sub: 'a', expiresInSec: 600, notBeforeInSec: 300 })),
        garbage: await statusWith(server, 'not-a-token'),
      }
      expect(statuses).toEqual({ valid: 200, noExp: 200, otherKey: 401, tampered: 401, algNone: 401, hmacWithPublicKey: 401, hmac: 401, expired: 401, notYet: 401, garbage: 401 })
    })

    test('grants still apply: a valid token outside its claim gets 403', async () => {
      const valid = await keys.sign(CLAIM, { sub: 'a', expiresInSec: 60 })
      expect((await call(`${server.url}/v1/streams/other.1/events`, { headers: bearer(valid) })).status).toBe(403)
      expect((await call(`${server.url}/v1/connections`, { headers: bearer(valid) })).status).toBe(403)
    })
  })
}

describe('--jwt-secret with --jwt-key', () => {
  let server: TestServer
  let keys: KeyPair
  beforeAll(async () => {
    keys = await keyPair('ES256')
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'jwt-key': await keys.writePem(mkdtempSync(join(dir, 'both-'))) })
  })
  afterAll(() => server.close())

  test('both kinds of token are accepted; an ES256 header over an HMAC signature is not', async () => {
    const hs = await hsToken(TEST_SECRET, CLAIM, { sub: 'a', expiresInSec: 60 })
    const es = await keys.sign(CLAIM, { sub: 'a', expiresInSec: 60 })
    const [, payload, hsSig] = hs.split('.')
    const relabelled = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'k-es256' })).toString('base64url')}.${payload}.${hsSig}`
    expect({ hs: await statusWith(server, hs), es: await statusWith(server, es), relabelled: await statusWith(server, relabelled) }).toEqual({ hs: 200, es: 200, relabelled: 401 })
  })
})

describe('--jwt-audience and --jwt-issuer', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ 'jwt-secret': TEST_SECRET, 'jwt-audience': 'ringcast', 'jwt-issuer': 'https://idp.test' })
  })
  afterAll(() => server.close())

  test('a token must name the audience and the issuer', async () => {
    const sign = (o: { aud?: string | string[]; iss?: string }) => hsToken(TEST_SECRET, CLAIM, { sub: 'a', expiresInSec: 60, iss: o.iss, extra: o.aud === undefined ? {} : { aud: o.aud } })
    const statuses = {
      right: await statusWith(server, await sign({ aud: 'ringcast', iss: 'https://idp.test' })),
      audList: await statusWith(server, await sign({ aud: ['other', 'ringcast'], iss: 'https://idp.test' })),
      wrongAud: await statusWith(server, await sign({ aud: 'other', iss: 'https://idp.test' })),
      noAud: await statusWith(server, await sign({ iss: 'https://idp.test' })),
      wrongIss: await statusWith(server, await sign({ aud: 'ringcast', iss: 'https://evil.test' })),
      noIss: await statusWith(server, await sign({ aud: 'ringcast' })),
    }
    expect(statuses).toEqual({ right: 200, audList: 200, wrongAud: 401, noAud: 401, wrongIss: 401, noIss: 401 })
    const refused = await call(`${server.url}/v1/streams/k.1/events`, { headers: bearer(await sign({ aud: 'other', iss: 'https://idp.test' })) })
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'unauthorized', detail: expect.stringContaining('aud') })
  })
})

describe('--jwt-key with a malformed JWKS entry', () => {
  test('a JWKS without keys stops start-up naming --jwt-key', async () => {
    const file = join(dir, 'empty.jwks.json')
    writeFileSync(file, '{"keys":[]}')
    await expect(startTestServer({ 'jwt-key': file }, mkdtempSync(join(dir, 'srv-')))).rejects.toThrow('--jwt-key')
  })
})
