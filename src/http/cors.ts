import { Elysia } from 'elysia'

const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID, Idempotency-Key'
const EXPOSE_HEADERS = 'Retry-After, Content-Type'

/** CORS for the configured origins (`*` for any), with preflight answered on every route. */
export function cors(origins: readonly string[]) {
  const isAny = origins.includes('*')
  const allowed = new Set(origins)
  const originFor = (origin: string | null) => (origin && (isAny || allowed.has(origin)) ? origin : null)
  return new Elysia({ name: 'cors' })
    .onRequest(({ request, set }) => {
      if (origins.length === 0) return
      const origin = originFor(request.headers.get('origin'))
      if (!origin) return
      set.headers['access-control-allow-origin'] = origin
      set.headers['access-control-allow-credentials'] = 'true'
      set.headers['access-control-expose-headers'] = EXPOSE_HEADERS
      set.headers.vary = 'Origin'
      if (request.method === 'OPTIONS') {
        return new Response(null, {
          status: 204,
          headers: {
            'Access-Control-Allow-Origin': origin,
            'Access-Control-Allow-Credentials': 'true',
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
