import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose'

/** The `ringcast` claim: what a token may do. */
export interface Claim {
  publish?: string[]
  subscribe?: string[]
  admin?: boolean
}

export interface TokenOptions {
  sub?: string
  /** Seconds from now until the token expires (negative: already expired); omitted: no exp. */
  expiresInSec?: number
  /** Seconds from now until the token becomes valid. */
  notBeforeInSec?: number
  aud?: string
  iss?: string
  alg?: 'HS256' | 'HS384' | 'HS512'
  /** Extra claims merged into the payload. */
  extra?: JWTPayload
}

const encoder = new TextEncoder()

function payloadOf(claim: Claim, o: TokenOptions): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  const payload: JWTPayload = { ringcast: claim, ...o.extra }
  if (o.sub !== undefined) payload.sub = o.sub
  if (o.expiresInSec !== undefined) payload.exp = now + o.expiresInSec
  if (o.notBeforeInSec !== undefined) payload.nbf = now + o.notBeforeInSec
  if (o.aud !== undefined) payload.aud = o.aud
  if (o.iss !== undefined) payload.iss = o.iss
  payload.iat = now
  return payload
}

/** An HMAC token signed with `secret` (HS256 unless `alg` says otherwise). */
export function hsToken(secret: string, claim: Claim, o: TokenOptions = {}): Promise<string> {
  return new SignJWT(payloadOf(claim, o)).setProtectedHeader({ alg: o.alg ?? 'HS256', typ: 'JWT' }).sign(encoder.encode(secret))
}

/** An unsigned token (`alg: none`), built by hand since jose refuses to make one: `header.payload.` */
export function noneToken(claim: Claim, o: TokenOptions = {}): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payloadOf(claim, o))}.`
}

/** The same token with its signature broken: one character of the signature changed. */
export function tamper(token: string): string {
  const [header, payload, signature] = token.split('.')
  // Change a middle character: the last one of a base64url signature may carry only padding bits.
  const at = Math.floor(signature.length / 2)
  const swapped = signature[at] === 'A' ? 'B' : 'A'
  return `${header}.${payload}.${signature.slice(0, at)}${swapped}${signature.slice(at + 1)}`
}

/** The same token with its payload replaced (signature kept): a forged claim. */
export function forge(token: string, claim: Claim, o: TokenOptions = {}): string {
  const [header, , signature] = token.split('.')
  return `${header}.${Buffer.from(JSON.stringify(payloadOf(claim, o))).toString('base64url')}.${signature}`
}

export type AsymmetricAlg = 'RS256' | 'ES256' | 'EdDSA'

/** A key pair for an asymmetric algorithm, with writers for the file forms `--jwt-key` takes. */
export interface KeyPair {
  alg: AsymmetricAlg
  sign(claim: Claim, o?: TokenOptions): Promise<string>
  /** Writes the public key as PEM (SPKI) into `dir`; returns the path. */
  writePem(dir: string): Promise<string>
  /** Writes the public key as a JWKS into `dir`; returns the path. */
  writeJwks(dir: string, kid?: string): Promise<string>
}

export async function keyPair(alg: AsymmetricAlg, kid = `k-${alg.toLowerCase()}`): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true })
  return {
    alg,
    sign: (claim, o = {}) => new SignJWT(payloadOf(claim, o)).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(privateKey),
    writePem: async (dir) => {
      const path = join(dir, `${alg}.pem`)
      writeFileSync(path, await exportSPKI(publicKey))
      return path
    },
    writeJwks: async (dir, keyId = kid) => {
      const path = join(dir, `${alg}.jwks.json`)
      writeFileSync(path, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: keyId, alg, use: 'sig' }] }))
      return path
    },
  }
}

/** A long enough HMAC secret for tests (the server refuses fewer than 16 characters). */
export const TEST_SECRET = 'test-secret-0123456789-abcdef'
