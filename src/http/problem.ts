import { type ErrorCode, RingcastError } from '../core/errors'

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_request: 400,
  bad_name: 400,
  bad_pattern: 400,
  invalid_body: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  batch_too_large: 413,
  not_found: 404,
  stream_closed: 409,
  conflict: 409,
  not_held: 409,
  unauthorized: 401,
  forbidden: 403,
  too_many_connections: 503,
  too_many_client_connections: 429,
  too_many_patterns: 429,
  too_many_streams: 507,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code]
}

/** An RFC 9457 problem+json response. */
export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  const body = { type: `https://ringcast.dev/problems/${code.replaceAll('_', '-')}`, title: TITLES[status] ?? 'Error', status, code, detail, ...extra }
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/problem+json', ...headers } })
}

/** Maps any error thrown below http to a problem; unknown errors become a 500 that reveals nothing. */
export function problemFrom(error: unknown): Response {
  if (error instanceof RingcastError) {
    const headers: Record<string, string> = {}
    if (typeof error.extra?.retryAfter === 'number') headers['Retry-After'] = String(Math.max(1, Math.ceil(error.extra.retryAfter)))
    return problem(statusOf(error.code), error.code, error.message, { ...(error.hint && { hint: error.hint }), ...error.extra }, headers)
  }
  return problem(500, 'internal', 'The server failed to handle this request; nothing was stored.')
}
