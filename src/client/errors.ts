/** A refusal or failure: `status` 0 when the server was not reached (`cause` is then the network error); `code`, `detail`, `hint` from its problem+json. */
export class RingcastError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    /** Seconds the server asked to wait (429 and 503 `Retry-After`). */
    readonly retryAfterSec?: number,
  ) {
    super(message)
    this.name = 'RingcastError'
  }

  /** Worth trying again as it is: the server was not reached, was busy or restarting, or asked to wait. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }
}

/** @internal The error a non-2xx response stands for, read from its problem+json body when it has one. */
export async function errorOf(response: Response): Promise<RingcastError> {
  const text = await response.text().catch(() => '')
  let problem: { code?: string; detail?: string; hint?: string } = {}
  try {
    problem = JSON.parse(text)
  } catch {
    // Not problem+json (a proxy's page): the status says enough.
  }
  const retryAfter = Number(response.headers.get('retry-after'))
  return new RingcastError(response.status, problem.code ?? `http_${response.status}`, problem.detail ?? (text.slice(0, 200) || response.statusText), problem.hint, retryAfter > 0 ? retryAfter : undefined)
}

/** @internal A network failure (fetch rejected, socket refused) as a transient error, with the failure as its `cause`. */
export function unreachable(error: unknown): RingcastError {
  if (error instanceof RingcastError) return error
  const e = new RingcastError(0, 'unreachable', `Server not reached: ${(error as Error)?.message ?? error}`)
  e.cause = error
  return e
}
