import { Elysia } from 'elysia'
import { RingcastError } from '../core/errors'
import type { Logger } from '../logger'
import { allowedMethods } from './methods'
import { statusOf } from './problem'

/** The app's routes, for telling a 405 from a 404. */
export type RouteList = readonly { method: string; path: string }[]
type Routes = () => RouteList

/** At --log-level debug, one line per request: method, path, status, µs. Adds no hook at any other level. */
export function accessLog(logger: Logger, routes: Routes) {
  const app = new Elysia({ name: 'access-log' })
  if (!logger.isEnabled('debug')) return app
  const startedAt = new WeakMap<Request, number>()
  return app
    .onRequest(({ request }) => {
      startedAt.set(request, performance.now())
    })
    .onAfterResponse({ as: 'global' }, (context) => {
      // Elysia sets these on the context of a failed request; its types do not show them here.
      const { request, set, response, error, code } = context as typeof context & { error?: unknown; code?: unknown }
      const started = startedAt.get(request)
      // The path only: a query string may hold an access token.
      const path = request.url.slice(request.url.indexOf('/', 8)).split('?')[0]
      const status = response instanceof Response ? response.status : error ? errorStatus(code, error, request.method, path, routes) : Number(set.status ?? 200)
      logger.debug('request', { method: request.method, path, status, us: started === undefined ? undefined : Math.round((performance.now() - started) * 1000) })
    })
}

// Elysia runs this hook before it keeps the error handler's response, so the status is derived as app.ts maps errors.
function errorStatus(code: unknown, error: unknown, method: string, path: string, routes: Routes): number {
  const cause = (error as Error).cause
  if (error instanceof RingcastError) return statusOf(error.code)
  if (code === 'PARSE' && cause instanceof RingcastError) return statusOf(cause.code)
  if (code === 'NOT_FOUND') {
    const allowed = allowedMethods(routes(), path)
    return allowed.length === 0 ? 404 : method === 'OPTIONS' ? 204 : 405
  }
  return code === 'VALIDATION' || code === 'PARSE' ? 400 : 500
}
