import { errorOf, RingcastError, unreachable } from './errors'
import { type Backoff, delayMs, sleep } from './retry'
import type { Token } from './token'

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Retry transient failures (network, 429, 5xx): only for requests that are safe to repeat. */
  isRetried?: boolean
  /** How many times (default: the client's `retries`). */
  retries?: number
  /** Told of each failure that is retried. */
  onRetry?: (error: RingcastError) => void
}

/** The server's HTTP API: base URL, bearer token, problem+json errors, retries. */
export class Http {
  constructor(
    /** Absolute base URL without a trailing slash. */
    readonly base: string,
    readonly token: Token,
    readonly backoff: Backoff,
    private readonly retries: number,
  ) {}

  /** The response of one request (any 2xx); throws RingcastError. A 401 with a renewable token asks for a fresh one and tries once more. */
  async fetch(path: string, init: RequestInit = {}, isRenewed = false): Promise<Response> {
    const token = await this.token.get()
    const headers = { ...(init.headers as Record<string, string>), ...(token && { Authorization: `Bearer ${token}` }) }
    let response: Response
    try {
      response = await fetch(this.base + path, { ...init, headers })
    } catch (error) {
      if (init.signal?.aborted) throw error
      throw unreachable(error)
    }
    if (response.ok) return response
    if (response.status === 401 && this.token.isRenewable && !isRenewed) {
      this.token.expire()
      return this.fetch(path, init, true)
    }
    throw await errorOf(response)
  }

  /** A JSON request and its JSON answer (undefined when empty), retried while transient when `isRetried`. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    const init: RequestInit = { method, headers, signal: options.signal, body: options.body === undefined ? undefined : JSON.stringify(options.body) }
    for (let attempt = 0; ; attempt++) {
      try {
        const text = await (await this.fetch(path, init)).text()
        return (text ? JSON.parse(text) : undefined) as T
      } catch (error) {
        if (options.signal?.aborted) throw error
        // A body cut short is a network failure like any other.
        const e = error instanceof RingcastError ? error : unreachable(error)
        if (!options.isRetried || !e.isTransient || attempt >= (options.retries ?? this.retries)) throw e
        options.onRetry?.(e)
        await sleep(e.retryAfterSec ? e.retryAfterSec * 1000 : delayMs(attempt, this.backoff), options.signal)
      }
    }
  }
}
