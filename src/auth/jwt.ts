import { createPublicKey, type KeyObject } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose'
import { patternProblem } from '../core/pattern'
import type { Grants } from './grants'

export interface JwtOptions {
  secret?: string
  /** Contents of a PEM public key or a JWKS (JSON) file. */
  keyText?: string
  audience?: string
  issuer?: string
  /** Tokens without `exp`, or living longer than this (from `iat`, else from now), are refused. */
  maxAgeSeconds?: number
}

const HMAC_ALGS = ['HS256', 'HS384', 'HS512']

/** Verifies bearer tokens with jose and turns their `ringcast` claim into Grants. */
export class JwtVerifier {
  private readonly secret: Uint8Array | undefined
  private readonly key: KeyObject | JWTVerifyGetKey | undefined
  private readonly keyAlgs: string[]

  /** Throws a plain Error naming what is wrong with the key material (start-up reports it). */
  constructor(private readonly options: JwtOptions) {
    this.secret = options.secret ? new TextEncoder().encode(options.secret) : undefined
    if (options.keyText === undefined) {
      this.keyAlgs = []
      return
    }
    const text = options.keyText.trim()
    if (text.startsWith('{')) {
      const jwks = JSON.parse(text) as { keys?: unknown[] }
      if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error('the JWKS has no "keys"')
      this.key = createLocalJWKSet(jwks as never)
      this.keyAlgs = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']
      return
    }
    const key = createPublicKey(text)
    this.key = key
    this.keyAlgs = algorithmsFor(key)
  }

  /** Grants of a valid token; throws with a reason a client may see (never the token itself). */
  async verify(token: string): Promise<Grants> {
    let alg: string | undefined
    try {
      alg = decodeProtectedHeader(token).alg
    } catch {
      throw new Error('malformed token')
    }
    const isHmac = alg !== undefined && HMAC_ALGS.includes(alg)
    const key = isHmac ? this.secret : this.key
    const algorithms = isHmac ? HMAC_ALGS : this.keyAlgs
    if (!key || !alg || !algorithms.includes(alg)) throw new Error(`algorithm ${alg ?? 'none'} is not accepted`)
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, key as never, { algorithms, audience: this.options.audience, issuer: this.options.issuer }))
    } catch (error) {
      throw new Error(reason(error))
    }
    const maxAge = this.options.maxAgeSeconds
    if (maxAge !== undefined) {
      if (typeof payload.exp !== 'number') throw new Error('token has no exp, and this server refuses tokens that live forever')
      const from = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000)
      if (payload.exp - from > maxAge) throw new Error(`token lives ${payload.exp - from} s, longer than this server's --jwt-max-age of ${maxAge} s`)
    }
    return grantsOf(payload)
  }
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512']
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512']
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve
      return curve === 'secp384r1' ? ['ES384'] : curve === 'secp521r1' ? ['ES512'] : ['ES256']
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519']
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`)
  }
}

function grantsOf(payload: JWTPayload): Grants {
  const claim = (payload.ringcast ?? {}) as { publish?: unknown; subscribe?: unknown; admin?: unknown }
  // A malformed pattern in a claim grants nothing rather than something unintended.
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && patternProblem(p) === null) : [])
  return {
    publish: list(claim.publish),
    subscribe: list(claim.subscribe),
    isAdmin: claim.admin === true,
    subject: typeof payload.sub === 'string' ? payload.sub : null,
    expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    isTicket: false,
  }
}

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired'
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim "${error.claim}" is not valid (${error.reason})`
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature does not verify'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not accepted'
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key in the JWKS matches the token'
  return 'token is not valid'
}
