import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Grants } from './grants'

interface TicketBody {
  /** Subject of the token it was traded for. */
  s: string | null
  /** Subscribe patterns. */
  p: string[]
  /** Use-by time (epoch s): a ticket opens connections only until then. */
  e: number
  /** The token's own expiry (epoch s), which bounds the connections it opens. */
  t: number | null
}

const PREFIX = 'rct1.'

/** Short-lived subscribe-only tickets: signed, opaque, URL-safe, so long-lived tokens stay out of URLs. */
export class Tickets {
  private readonly key: Buffer

  /** `secret` makes tickets survive a restart; without it a random key is used. */
  constructor(secret?: string) {
    this.key = secret ? createHmac('sha256', 'ringcast ticket key').update(secret).digest() : randomBytes(32)
  }

  static isTicket(credential: string): boolean {
    return credential.startsWith(PREFIX)
  }

  mint(grants: Grants, patterns: string[], ttlSeconds: number, nowMs = Date.now()): { ticket: string; expires: string } {
    const tokenExpires = grants.expiresAtMs === null ? null : Math.floor(grants.expiresAtMs / 1000)
    // A ticket never outlives its token: past the token's exp it would open connections that expire at once.
    const expires = Math.min(Math.floor(nowMs / 1000) + ttlSeconds, tokenExpires ?? Number.POSITIVE_INFINITY)
    const body: TicketBody = { s: grants.subject, p: patterns, e: expires, t: tokenExpires }
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url')
    return { ticket: `${PREFIX}${payload}.${this.sign(payload)}`, expires: new Date(expires * 1000).toISOString() }
  }

  /** The grants of a valid ticket, or a reason it is not valid. */
  verify(ticket: string, nowMs = Date.now()): Grants | string {
    const [payload, signature] = ticket.slice(PREFIX.length).split('.')
    if (!payload || !signature) return 'malformed ticket'
    const expected = Buffer.from(this.sign(payload))
    const given = Buffer.from(signature)
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'ticket signature does not verify'
    let body: TicketBody
    try {
      body = JSON.parse(Buffer.from(payload, 'base64url').toString())
    } catch {
      return 'malformed ticket'
    }
    if (body.e * 1000 <= nowMs || (body.t !== null && body.t * 1000 <= nowMs)) return 'ticket expired'
    return { publish: [], subscribe: body.p, isAdmin: false, subject: body.s, expiresAtMs: body.t === null ? null : body.t * 1000, isTicket: true }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url')
  }
}
