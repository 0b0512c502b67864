import { Elysia } from 'elysia'
import { RingcastError } from '../core/errors'
import { accessLog } from './access-log'
import { cors } from './cors'
import type { AppDeps, ServerLike } from './deps'
import { docs } from './docs'
import { problem, problemFrom, validationDetail } from './problem'
import { connectionRoutes } from './routes/connections'
import { eventRoutes, plainStreamEvents } from './routes/events'
import { groupRoutes } from './routes/groups'
import { healthRoutes } from './routes/health'
import { publishRoutes } from './routes/publish'
import { streamRoutes } from './routes/streams'
import { ticketRoutes } from './routes/tickets'
import { wsRoutes } from './routes/ws'

/** The whole HTTP surface; status codes and problem+json live here and nowhere below. */
export function createApp(d: AppDeps, version: string) {
  // Plain polls of one stream are Bun's own route; every other request to that path falls through to Elysia's.
  const plain = plainStreamEvents(d)
  const streamEvents = async (request: Request, server: ServerLike): Promise<Response> => {
    try {
      return (await plain(request, server)) ?? (await app.fetch(request))
    } catch (error) {
      return errorResponse(d, 'UNKNOWN', error, request)
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
      routes: { '/v1/streams/:stream/events': { GET: streamEvents as never } },
    },
    websocket: {
      // Bun must never drop a frame; the transport closes a socket past --buffer-limit with 4008 first.
      backpressureLimit: Math.max(d.config.bufferLimit * 4, 16 * 1024 * 1024),
      closeOnBackpressureLimit: false,
      maxPayloadLength: d.config.maxPayload,
      idleTimeout: 120,
    },
  })
    .use(accessLog(d.logger))
    .use(cors(d.origins))
    .onError(({ code, error, request }) => errorResponse(d, code, error, request))
    .use(docs(version))
    .use(healthRoutes(d))
    .use(publishRoutes(d))
    .use(eventRoutes(d))
    .use(wsRoutes(d))
    .use(streamRoutes(d))
    .use(connectionRoutes(d))
    .use(groupRoutes(d))
    .use(ticketRoutes(d))
  return app
}

/** A refusal or failure as problem+json, counted by code: the one place a request is turned away. */
function errorResponse(d: AppDeps, code: string | number, error: unknown, request: Request): Response {
  if (error instanceof RingcastError) {
    d.metrics.reject(error.code)
    // Capacity refusals are expected under load and counted in /metrics; only real failures are logged above debug.
    if (error.code === 'internal' || error.code === 'unavailable') d.logger.error('request failed', { code: error.code, detail: error.message })
    // The path only: a query string may hold an access token.
    else if (d.logger.isEnabled('debug')) d.logger.debug('request refused', { code: error.code, method: request.method, path: new URL(request.url).pathname })
    return problemFrom(error)
  }
  switch (code) {
    case 'VALIDATION': {
      d.metrics.reject('invalid_request')
      const { detail, errors } = validationDetail(error as { message: string })
      return problem(400, 'invalid_request', detail, errors ? { errors } : {})
    }
    case 'NOT_FOUND':
      d.metrics.reject('not_found')
      return problem(404, 'not_found', 'No such route.', { hint: 'See /docs for the API.' })
    case 'PARSE':
      d.metrics.reject('bad_request')
      return problem(400, 'bad_request', 'The body could not be parsed.', { hint: 'Send valid JSON with Content-Type: application/json.' })
    default:
      d.metrics.reject('internal')
      d.logger.error('unhandled error', { error: String((error as Error)?.stack ?? error) })
      return problemFrom(error)
  }
}
