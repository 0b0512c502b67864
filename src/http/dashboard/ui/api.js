// The server's API as the page uses it: the token (kept in sessionStorage, sent only in a header), JSON calls, tickets.

const KEY = 'ringcast.token'
let token = sessionStorage.getItem(KEY)
let unauthorized = () => {}

export const session = {
  get token() {
    return token
  },
  set(value) {
    token = value
    sessionStorage.setItem(KEY, value)
  },
  clear() {
    token = null
    sessionStorage.removeItem(KEY)
  },
  /** Called with the ApiError of any 401: the token is missing, wrong or expired. */
  onUnauthorized(fn) {
    unauthorized = fn
  },
}

/** A refused or failed call, from its problem+json. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `The server answered ${status}.`)
    this.status = status
    this.code = problem?.code ?? null
    this.hint = problem?.hint ?? null
  }
}

/** Request headers with the token, when there is one. */
export function headers(extra = {}) {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra
}

/** Calls the API; resolves with the parsed JSON body (null when empty), throws ApiError on 4xx/5xx. */
export async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = { detail: text.slice(0, 200) }
  }
  if (res.ok) return data
  const error = new ApiError(res.status, data)
  if (res.status === 401) unauthorized(error)
  throw error
}

/** A short-lived subscribe-only ticket for `patterns`, so event streams never carry the token in a URL; null on an open server. */
export async function ticketFor(patterns) {
  if (!token) return null
  const { ticket } = await api('/v1/tickets', { method: 'POST', body: { subscribe: patterns, ttl: 60 } })
  return ticket
}

/** The token's `ringcast` claim, decoded (not verified: the server does that) only to choose what to show; null when unreadable. */
export function claim() {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0))
    const payload = JSON.parse(new TextDecoder().decode(bytes))
    return { sub: payload.sub ?? null, ...payload.ringcast }
  } catch {
    return null
  }
}

/** Splits "a.*, b.**" into patterns. */
export function patternsOf(text) {
  return text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean)
}
