import { errorOf, RingcastError, unreachable } from '../client/errors'
import { Ringcast } from '../client/ringcast'
import type { FlagSpec } from './args'
import { CliError, UsageError } from './errors'

// Client commands talk to the server through the client library where it has what they need (tail,
// publish) and through Api.fetch where they stream a raw body (export, import, health).

export const URL_FLAG: FlagSpec = { name: 'url', kind: 'value', value: 'URL', help: 'server to talk to', env: 'RINGCAST_URL', default: 'http://127.0.0.1:8080' }
export const TOKEN_FLAG: FlagSpec = { name: 'token', kind: 'value', value: 'JWT', help: 'bearer token for a server with --jwt-secret/--jwt-key (ringcast token mints one)', env: 'RINGCAST_TOKEN' }

/** The server a client command talks to, and the token it sends. */
export class Api {
  readonly url: string
  private readonly token: string | undefined

  /** `flags` with RINGCAST_URL / RINGCAST_TOKEN already filled in where the flag was not given. */
  constructor(flags: Record<string, string>) {
    const url = (flags.url ?? URL_FLAG.default!).replace(/\/+$/, '')
    // `localhost:8080` is what people type; fetch needs a scheme.
    this.url = /^https?:\/\//i.test(url) ? url : `http://${url}`
    this.token = flags.token || undefined
  }

  /** The client library on this server: reconnects within a second of the server coming back; a publish tries for about a second and a half. */
  client(): Ringcast {
    return new Ringcast({ url: this.url, token: this.token, backoff: { maxMs: 1000 }, retries: 3 })
  }

  /**
   * The response when it is 2xx; anything else throws `failure()`'s one line.
   * With `isRateLimitWaited`, a 429 is waited out as Retry-After says and the request sent again (a 429 stored nothing).
   */
  async fetch(path: string, init: RequestInit = {}, options: { isRateLimitWaited?: boolean } = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.token) headers.set('Authorization', `Bearer ${this.token}`)
    for (;;) {
      let response: Response
      try {
        response = await fetch(`${this.url}${path}`, { ...init, headers })
      } catch (error) {
        throw this.failure(unreachable(error))
      }
      if (response.ok) return response
      const error = await errorOf(response)
      if (response.status === 429 && options.isRateLimitWaited && error.retryAfterSec) {
        await Bun.sleep(error.retryAfterSec * 1000)
        continue
      }
      throw this.failure(error)
    }
  }

  /** A client library error as one CliError line: `cannot reach URL (why)…`, or `STATUS detail Hint: hint` from the server's problem. */
  failure(error: unknown): Error {
    if (!(error instanceof RingcastError)) return error as Error
    if (error.status === 0) return new CliError(`cannot reach ${this.url} (${reasonOf(error.cause)}); is the server running? Set --url or RINGCAST_URL`)
    // The server's hint speaks of headers; a CLI user passes a flag.
    const hint = error.status === 401 && !this.token ? 'Give a token with --token or RINGCAST_TOKEN (ringcast token mints one).' : error.hint
    return new CliError(`${error.status} ${error.message}${hint ? ` Hint: ${hint}` : ''}`)
  }
}

/** Why a request got no answer, in a few words. */
function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; name?: string; message?: string }
  if (e?.code === 'ECONNREFUSED') return 'connection refused'
  if (e?.code === 'ENOTFOUND') return 'unknown host'
  if (e?.name === 'TimeoutError') return 'no answer in time'
  return typeof e?.code === 'string' ? e.code : (e?.message ?? String(error))
}

/** The value of a required word, or a UsageError naming it. */
export function need(value: string | undefined, what: string, command: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${what} (see ringcast help ${command})`)
  return value
}
