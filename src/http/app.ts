import type { ValueError } from '@sinclair/typebox/errors'
import { Elysia } from 'elysia'
import { RingcastError } from '../core/errors'
import { accessLog, type RouteList } from './access-log'
import { cors } from './cors'
import { type AppDeps, noteRefusal, type ServerLike } from './deps'
import { docs } from './docs'
import { invalid } from '../validation'
import { allowedMethods } from './methods'
import { plainRoute, plainStreamRoute } from './plain-route'
import { problem, problemFrom } from './problem'
import { connectionRoutes } from './routes/connections'
import { dashboardRoutes } from './routes/dashboard'
import { eventRoutes, readEvents } from './routes/events'
import { groupRoutes } from './routes/groups'
import { healthRoutes } from './routes/health'
import { publishEvents, publishRoutes } from './routes/publish'
import { statsRoutes } from './routes/stats'
import { streamRoutes } from './routes/streams'
import { ticketRoutes } from './routes/tickets'
import { wsRoutes } from './routes/ws'

/** The whole HTTP surface; status codes and problem+json live here and nowhere below. */
export function createApp(d: AppDeps, version: string) {
  // The hot routes are Bun's own; what they leave (null) falls through to Elysia's route for the same path.
  const fast = (route: (request: Request, server: ServerLike) => Promise<Response> | null) => async (request: Request, server: ServerLike): Promise<Response> => {
    try {
      d.hostGuard.check(request)
      return (await route(request, server)) ?? (await app.fetch(request))
    } catch (error) {
      return errorResponse(d, 'UNKNOWN', error, request, app)
    }
  }
  const app = new Elysia({
    // Unknown body fields are a 400, not silently dropped.
    normalize: false,
    serve: {
      // Elysia turns reusePort on; two servers on one port would then silently split traffic.
      reusePort: false,
      idleTimeout: 30,
      // Bun's own cap is a backstop above ours, so oversized bodies still get our problem+json 413.
      maxRequestBodySize: Math.max(d.config.maxPayload * 2, 16 * 1024 * 1024),
      routes: {
        '/v1/streams/:stream/events': { GET: fast(plainStreamRoute(d, readEvents)) as never, POST: fast(plainStreamRoute(d, publishEvents)) as never },
        '/v1/events': { GET: fast(plainRoute(d, (request, server) => readEvents(d, null, request, server))) as never },
      },
    },
    websocket: {
      // Bun must never drop a frame; the transport closes a socket past --buffer-limit with 4008 first.
      backpressureLimit: Math.max(d.config.bufferLimit * 4, 16 * 1024 * 1024),
      closeOnBackpressureLimit: false,
      maxPayloadLength: d.config.maxPayload,
      idleTimeout: 120,
      // Bun deflates a frame once per socket, not once per publish: opt-in (--compression all), see README.
      perMessageDeflate: d.config.compression === 'all',
    },
  })
    .use(accessLog(d.logger, (): RouteList => app.routes))
    .onRequest(({ request }) => d.hostGuard.check(request))
    .use(cors(d.origins))
    .onError(({ code, error, request }) => errorResponse(d, code, error, request, app))
    .use(docs(version))
    .use(healthRoutes(d))
    .use(publishRoutes(d))
    .use(eventRoutes(d))
    .use(wsRoutes(d))
    .use(streamRoutes(d))
    .use(connectionRoutes(d))
    .use(groupRoutes(d))
    .use(ticketRoutes(d))
    .use(statsRoutes(d))
    .use(dashboardRoutes())
  return app
}

/** A refusal or failure as problem+json, counted by code: the one place a request is turned away. */
function errorResponse(d: AppDeps, code: string | number, error: unknown, request: Request, app: { routes: { method: string; path: string }[] }): Response {
  // Elysia wraps whatever a parse hook throws (the 401 of authenticateBeforeParse) in its ParseError.
  if (code === 'PARSE' && (error as Error).cause instanceof RingcastError) error = (error as Error).cause
  if (code === 'VALIDATION') {
    const { type, valueError } = error as { type: string; valueError?: ValueError }
    error = invalid(valueError, { root: type === 'body' ? 'the body' : `the ${type}` })
  }
  if (error instanceof RingcastError) {
    noteRefusal(d, error, request)
    return problemFrom(error)
  }
  switch (code) {
    case 'NOT_FOUND': {
      const allowed = allowedMethods(app.routes, new URL(request.url).pathname)
      if (allowed.length > 0 && request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { Allow: allowed.join(', ') } })
      if (allowed.length > 0) {
        d.metrics.reject('method_not_allowed')
        return problem(405, 'method_not_allowed', `${request.method} is not allowed here.`, { hint: `Use ${allowed.join(', ')}; see /docs.` }, { Allow: allowed.join(', ') })
      }
      d.metrics.reject('not_found')
      return problem(404, 'not_found', 'No such route.', { hint: 'See /docs for the API.' })
    }
    case 'PARSE':
      d.metrics.reject('bad_request')
      return problem(400, 'bad_request', 'The body could not be parsed.', { hint: 'Send valid JSON with Content-Type: application/json.' })
    default:
      d.metrics.reject('internal')
      d.logger.error('unhandled error', { error: String((error as Error)?.stack ?? error) })
      return problemFrom(error)
  }
}
