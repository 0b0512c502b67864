import { RingcastError } from '../core/errors'
import { canPublish, canSubscribe, type Grants, OPEN_GRANTS } from './grants'
import type { JwtVerifier } from './jwt'
import { Tickets } from './tickets'

/**
 * Finds the credential of a request: Bearer header, then cookie `ringcast_token` (only when
 * `allowCookie`: a cross-site page must not ride on a user's cookie), then `?access_token=`.
 */
export function credentialOf(request: Request, allowCookie: boolean): string | null {
  const header = request.headers.get('authorization')
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim())
    return match ? match[1].trim() : header.trim()
  }
  const cookie = allowCookie ? request.headers.get('cookie') : null
  if (cookie) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=')
      if (eq > 0 && part.slice(0, eq).trim() === 'ringcast_token') return cookieValue(part.slice(eq + 1).trim())
    }
  }
  const at = request.url.indexOf('access_token=')
  if (at >= 0) return new URL(request.url).searchParams.get('access_token')
  return null
}

/** A cookie value, percent-decoded when it decodes: a malformed escape is just a token that will not verify (401). */
function cookieValue(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Authentication (who) and authorization (may they) for every route and transport. */
export class Auth {
  constructor(
    private readonly verifier: JwtVerifier | null,
    readonly tickets: Tickets,
  ) {}

  /** Without keys the server is open: every request has every grant. */
  get isOpen(): boolean {
    return this.verifier === null
  }

  /** The grants of a request; throws unauthorized when a credential is missing or invalid. */
  async identify(request: Request, allowCookie: boolean): Promise<Grants> {
    if (!this.verifier) return OPEN_GRANTS
    const credential = credentialOf(request, allowCookie)
    if (!credential) throw new RingcastError('unauthorized', 'No token given.', 'Send Authorization: Bearer <token>, the ringcast_token cookie, or ?access_token= (prefer a ticket from POST /v1/tickets in URLs).')
    if (Tickets.isTicket(credential)) {
      const grants = this.tickets.verify(credential)
      if (typeof grants === 'string') throw new RingcastError('unauthorized', `Invalid ticket: ${grants}.`, 'Get a new one from POST /v1/tickets.')
      return grants
    }
    try {
      return await this.verifier.verify(credential)
    } catch (error) {
      const reason = (error as Error).message
      throw new RingcastError('unauthorized', `Invalid token: ${reason}.`, hintFor(reason))
    }
  }

  requirePublish(grants: Grants, stream: string): void {
    if (!canPublish(grants, stream)) {
      throw new RingcastError('forbidden', `Your token may not publish to "${stream}".`, 'Its ringcast.publish patterns must match the stream.', { stream })
    }
  }

  /** Every pattern must be within a subscribe grant: never a silently empty stream. */
  requireSubscribe(grants: Grants, patterns: readonly string[]): void {
    for (const pattern of patterns) {
      if (!canSubscribe(grants, pattern)) {
        throw new RingcastError('forbidden', `Your token may not subscribe to "${pattern}".`, 'Each pattern must be contained in one of its ringcast.subscribe patterns.', { pattern })
      }
    }
  }

  /**
   * Working a consumer group changes its state: a subscribe-only ticket may not, a token whose subscribe grants
   * cover every pattern of the group (`patterns`, undefined for a missing group) may. Authorised before the group
   * is named: a group the caller may not work is reported missing, so its existence and patterns stay private.
   */
  requireWork(grants: Grants, group: string, patterns: readonly string[] | undefined): void {
    if (grants.isTicket) throw new RingcastError('forbidden', 'A ticket only subscribes; it cannot work a consumer group.', 'Use a token with subscribe grants covering the group.')
    if (grants.subscribe.length === 0) throw new RingcastError('forbidden', 'Your token has no subscribe grants, so it may not work consumer groups.', 'Working a group needs ringcast.subscribe patterns covering its streams.')
    if (!patterns || !patterns.every((p) => canSubscribe(grants, p))) {
      throw new RingcastError('not_found', `No group "${group}" that your token may work.`, "Check the name, and that your token's subscribe grants cover every stream the group reads.")
    }
  }

  requireAdmin(grants: Grants): void {
    if (!grants.isAdmin) throw new RingcastError('forbidden', 'This route needs an admin token.', 'Set "admin": true in the ringcast claim.')
  }
}

/** How to recover from a refused token: a bad signature usually means it was signed with another key than the server's. */
function hintFor(reason: string): string {
  if (reason.includes('signature')) return "It was not signed with this server's key: the --jwt-secret (or --jwt-key) that minted it differs from the server's. Mint it with the server's secret, e.g. ringcast token --jwt-secret."
  if (reason.includes('expired')) return 'Get a fresh token; a live connection ends when its token expires.'
  return 'Get a fresh token from your identity provider.'
}
