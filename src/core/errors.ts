/** Stable error codes; http/problem.ts maps each to a status, ws to an error frame. */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_request'
  | 'bad_name'
  | 'bad_pattern'
  | 'invalid_body'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'batch_too_large'
  | 'not_found'
  | 'stream_closed'
  | 'conflict'
  | 'not_held'
  | 'unauthorized'
  | 'forbidden'
  | 'too_many_connections'
  | 'too_many_client_connections'
  | 'too_many_patterns'
  | 'too_many_streams'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'

/** The one error type core raises: a stable code, a message and a hint on how to recover. */
export class RingcastError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'RingcastError'
  }
}
