import { Elysia } from 'elysia'

const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID, Idempotency-Key'
const EXPOSE_HEADERS = 'Retry-After, Content-Type'

/** Which browser origins may call the server; `*` lets any origin in, but never with cookies. */
export class Origins {
  readonly isAny: boolean
  private readonly listed: Set<string>

  constructor(origins: readonly string[]) {
    this.isAny = origins.includes('*')
    this.listed = new Set(origins.filter((o) => o !== '*'))
  }

  get isEmpty(): boolean {
    return !this.isAny && this.listed.size === 0
  }

  /** Listed by name: such an origin may send credentials (the ringcast_token cookie). */
  isListed(origin: string): boolean {
    return this.listed.has(origin)
  }

  allows(origin: string): boolean {
    return this.isAny || this.listed.has(origin)
  }
}

/** Whether the request comes from a page of the server's own origin (or from no browser page at all). */
export function isSameOrigin(request: Request): boolean {
  const origin = request.headers.get('origin')
  if (!origin) return true
  try {
    return new URL(origin).host === request.headers.get('host')
  } catch {
    return false
  }
}

/** CORS for the configured origins, with preflight answered on every route. */
export function cors(origins: Origins) {
  // A request hook costs every request, so none is installed when no origin is configured.
  if (origins.isEmpty) return new Elysia({ name: 'cors' })
  return new Elysia({ name: 'cors' })
    .onRequest(({ request, set }) => {
      const origin = request.headers.get('origin')
      if (!origin || !origins.allows(origin)) return
      // A wildcard grant never carries credentials: any site could otherwise ride on a user's cookie.
      const credentials: Record<string, string> = origins.isListed(origin) ? { 'Access-Control-Allow-Credentials': 'true' } : {}
      const allowOrigin = origins.isListed(origin) ? origin : '*'
      set.headers['access-control-allow-origin'] = allowOrigin
      if (credentials['Access-Control-Allow-Credentials']) set.headers['access-control-allow-credentials'] = 'true'
      set.headers['access-control-expose-headers'] = EXPOSE_HEADERS
      set.headers.vary = 'Origin'
      if (request.method === 'OPTIONS') {
        return new Response(null, {
          status: 204,
          headers: {
            'Access-Control-Allow-Origin': allowOrigin,
            ...credentials,
            'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
            'Access-Control-Allow-Headers': request.headers.get('access-control-request-headers') ?? ALLOW_HEADERS,
            'Access-Control-Max-Age': '600',
            Vary: 'Origin',
          },
        })
      }
    })
    .as('global')
}
