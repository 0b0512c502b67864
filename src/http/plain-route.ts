import { RingcastError } from '../core/errors'
import type { AppDeps, ServerLike } from './deps'

/** A handler for one stream's path, given the name from it (decoded, not yet checked). */
export type StreamHandler = (d: AppDeps, stream: string, request: Request, server: ServerLike | null) => Promise<Response>

const PREFIX = '/v1/streams/'
const SUFFIX = '/events'

/**
 * A hot route as Bun's own: publishers, pollers and subscribers skip Elysia's per-request context and
 * hooks. Answers null for what Elysia must handle: CORS headers, the debug access log.
 */
export function plainRoute(d: AppDeps, handler: (request: Request, server: ServerLike) => Promise<Response> | null) {
  const isHooked = d.logger.isEnabled('debug')
  return (request: Request, server: ServerLike): Promise<Response> | null => (isHooked || (!d.origins.isEmpty && request.headers.has('origin')) ? null : handler(request, server))
}

/** `/v1/streams/{stream}/events` as a plain route, the stream name taken from the path. */
export function plainStreamRoute(d: AppDeps, handler: StreamHandler) {
  return plainRoute(d, (request, server) => {
    const url = request.url
    const queryAt = url.indexOf('?')
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2), queryAt < 0 ? url.length : queryAt)
    if (!path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) return null
    const name = path.slice(PREFIX.length, path.length - SUFFIX.length)
    return handler(d, name.includes('%') ? decoded(name) : name, request, server)
  })
}

/** The name as the client meant it; the handler then checks it like any other. */
function decoded(name: string): string {
  try {
    return decodeURIComponent(name)
  } catch {
    throw new RingcastError('bad_name', `Invalid stream name "${name.slice(0, 80)}": malformed percent-encoding.`, 'Use dot-separated tokens such as jobs.42.')
  }
}
