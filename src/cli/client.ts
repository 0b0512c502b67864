import type { FlagSpec } from './args'
import { CliError, UsageError } from './errors'

// The client commands' only HTTP code: a client library can replace this module.

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

  /**
   * The response when it is 2xx; a refusal is a CliError, an unreachable server an UnreachableError, each of one line.
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
        throw new UnreachableError(`cannot reach ${this.url} (${reasonOf(error)}); is the server running? Set --url or RINGCAST_URL`)
      }
      if (response.ok) return response
      const retryAfter = Number(response.headers.get('retry-after'))
      if (response.status === 429 && options.isRateLimitWaited && retryAfter > 0) {
        await response.body?.cancel()
        await Bun.sleep(retryAfter * 1000)
        continue
      }
      throw new CliError(await this.refusal(response))
    }
  }

  /** `STATUS detail Hint: hint`, from problem+json when the server sent it. */
  private async refusal(response: Response): Promise<string> {
    const text = await response.text()
    let detail = text.trim() || response.statusText
    let hint: string | undefined
    try {
      const problem = JSON.parse(text) as { detail?: string; hint?: string }
      detail = problem.detail ?? detail
      hint = problem.hint
    } catch {
      // Not problem+json: print it as it is.
    }
    // The server's hint speaks of headers; a CLI user passes a flag.
    if (response.status === 401 && !this.token) hint = 'Give a token with --token or RINGCAST_TOKEN (ringcast token mints one).'
    return `${response.status} ${detail}${hint ? ` Hint: ${hint}` : ''}`
  }
}

/** Why a fetch got no answer, in a few words. */
function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; name?: string; message?: string }
  if (e.code === 'ECONNREFUSED') return 'connection refused'
  if (e.code === 'ENOTFOUND') return 'unknown host'
  if (e.name === 'TimeoutError') return 'no answer in time'
  return typeof e.code === 'string' ? e.code : (e.message ?? String(error))
}

/** The server did not answer at all (refused, unknown host, TLS failure). */
export class UnreachableError extends CliError {}

/** `stream=P&…&after&types&correlationId` for the subscribe and export routes. */
export function streamQuery(patterns: readonly string[], flags: Record<string, string>, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams()
  for (const p of patterns) q.append('stream', p)
  if (flags.after !== undefined) q.set('after', flags.after)
  if (flags.types !== undefined) q.set('types', flags.types)
  if (flags['correlation-id'] !== undefined) q.set('correlationId', flags['correlation-id'])
  for (const [k, v] of Object.entries(extra)) q.set(k, v)
  return q.toString()
}

/** The value of a required word, or a UsageError naming it. */
export function need(value: string | undefined, what: string, command: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${what} (see ringcast help ${command})`)
  return value
}
