import { contains, matches } from '../core/pattern'

/** What a request may do, from its token's `ringcast` claim (or everything, when the server runs open). */
export interface Grants {
  publish: readonly string[]
  subscribe: readonly string[]
  isAdmin: boolean
  /** The token's `sub`, which limits count against; null without a token. */
  subject: string | null
  /** When the credential stops being valid (epoch ms): live connections are closed then. */
  expiresAtMs: number | null
  /** A ticket grants subscribing and nothing else, not even another ticket. */
  isTicket: boolean
}

/** Grants of a server started without keys: anyone may do anything. */
export const OPEN_GRANTS: Grants = { publish: ['**'], subscribe: ['**'], isAdmin: true, subject: null, expiresAtMs: null, isTicket: false }

export function canPublish(grants: Grants, stream: string): boolean {
  return grants.publish.some((p) => matches(p, stream))
}

/** Whether every name `pattern` can match is within one of the subscribe grants. */
export function canSubscribe(grants: Grants, pattern: string): boolean {
  return grants.subscribe.some((p) => contains(p, pattern))
}
