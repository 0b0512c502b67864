import { afterAll, beforeAll } from 'bun:test'
import { type BinaryServer, startBinary } from '../helpers/binary'
import { hsToken } from '../helpers/tokens'

// The security review's requests run against the compiled binary, as users run it.

export const SECRET = 'tenancy-secret-0123456789abcdef'

/** Tokens the tenancy tests use, by who holds them. */
export type Tokens = Record<'admin' | 'ingest' | 'reader' | 'dlqWriter' | 'bare', string>

/** A binary with --jwt-secret (plus `args`) and the tokens of the tenants in the review. */
export async function startSecured(args: string[] = []): Promise<{ server: BinaryServer; tok: Tokens }> {
  const server = await startBinary({ args: ['--jwt-secret', SECRET, ...args] })
  const tok: Tokens = {
    admin: await hsToken(SECRET, { publish: ['**'], subscribe: ['**'], admin: true }, { sub: 'root', expiresInSec: 600 }),
    ingest: await hsToken(SECRET, { publish: ['team.7.ingest'] }, { sub: 'ingest', expiresInSec: 600 }),
    reader: await hsToken(SECRET, { publish: ['team.7.ingest'], subscribe: ['team.7.**'] }, { sub: 'reader', expiresInSec: 600 }),
    dlqWriter: await hsToken(SECRET, { publish: ['dlq.acme-billing', 'billing.*'], subscribe: ['billing.*', 'dlq.acme-billing'] }, { sub: 'billing', expiresInSec: 600 }),
    bare: await hsToken(SECRET, {}, { sub: 'bare', expiresInSec: 600 }),
  }
  return { server, tok }
}

/** One JSON request with a bearer token (or none); the answer's status and parsed body. */
export async function call(server: BinaryServer, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(token && { Authorization: `Bearer ${token}` }), ...(body !== undefined && { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

/** For one test file: a secured binary started before its tests and disposed after, with `call` bound to it. */
export function securedServer(args: string[] = []) {
  const fixture = { server: undefined as unknown as BinaryServer, tok: undefined as unknown as Tokens }
  beforeAll(async () => {
    Object.assign(fixture, await startSecured(args))
  })
  afterAll(() => fixture.server?.dispose())
  return {
    get server(): BinaryServer {
      return fixture.server
    },
    get tok(): Tokens {
      return fixture.tok
    },
    call: (method: string, path: string, token: string | null, body?: unknown, headers?: Record<string, string>) => call(fixture.server, method, path, token, body, headers),
  }
}
