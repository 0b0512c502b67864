import type { RingcastError } from '../core/errors'
import type { Auth } from '../auth/auth'
import { OPEN_GRANTS, type Grants } from '../auth/grants'
import type { Config } from '../config'
import type { EventLoopLag } from '../event-loop-lag'
import type { Hub } from '../core/hub'
import type { ConsumerGroups } from '../groups/consumer-groups'
import type { Logger } from '../logger'
import type { Metrics } from '../metrics'
import type { CheckpointStats } from '../store/checkpointer'
import type { Connections } from '../transports/connections'
import type { PollTransport } from '../transports/poll'
import type { SseTransport } from '../transports/sse'
import type { WsTransport } from '../transports/ws'
import { isSameOrigin, type Origins } from './cors'
import type { HostGuard } from './host-guard'
import type { PublishRate } from './publish-rate'

/** What the routes are given by main.ts; routes never build these themselves. */
export interface AppDeps {
  config: Config
  hub: Hub
  connections: Connections
  metrics: Metrics
  logger: Logger
  sse: SseTransport
  ws: WsTransport
  poll: PollTransport
  /** Consumer groups: on SQLite, or shared through Redis with --redis. */
  groups: ConsumerGroups
  auth: Auth
  publishRate: PublishRate
  origins: Origins
  hostGuard: HostGuard
  lifecycle: { isDraining: boolean }
  /** Which node this is (--node, or host:port once listening) and where its log lives. */
  node: { name: string; store: 'sqlite' | 'redis' }
  eventLoopLag: EventLoopLag
  /** The SQLite log's checkpoints so far (undefined with --redis or --data :memory:). */
  checkpoints: () => CheckpointStats | undefined
}

/** Who is calling: their grants, their address, and the name the limits count them under. */
export interface Caller {
  readonly grants: Grants
  readonly remote: string
  readonly client: string
}

/** The address is looked up only when asked for: most requests never need it, and requestIP is not free. */
class RequestCaller implements Caller {
  private address: string | undefined

  constructor(
    readonly grants: Grants,
    private readonly server: ServerLike | null,
    private readonly request: Request,
  ) {}

  get remote(): string {
    return (this.address ??= remoteOf(this.server, this.request))
  }

  get client(): string {
    return this.grants.subject !== null ? `sub:${this.grants.subject}` : this.remote
  }
}

/** Authenticates a request (throws unauthorized); a client is the token's subject, else the remote address. */
export async function callerOf(d: AppDeps, request: Request, server: ServerLike | null): Promise<Caller> {
  // An open server grants everything whatever the request holds: no headers to read, no promise to wait for.
  if (d.auth.isOpen) return new RequestCaller(OPEN_GRANTS, server, request)
  const origin = request.headers.get('origin')
  const allowCookie = origin === null || isSameOrigin(request) || d.origins.isListed(origin)
  const grants = await d.auth.identify(request, allowCookie)
  return new RequestCaller(grants, server, request)
}

// Callers authenticated while the body was being parsed, picked up by `authenticate`.
const parsedCallers = new WeakMap<Request, Caller>()

/**
 * For `.onParse()`: Elysia parses a body before anything else, so a route with a body authenticates
 * here first; a malformed body from an anonymous caller is then a 401, not a 400.
 */
export function authenticateBeforeParse(d: AppDeps) {
  return async ({ request, server }: { request: Request; server: unknown }): Promise<undefined> => {
    parsedCallers.set(request, await callerOf(d, request, server as ServerLike | null))
    return undefined // let Elysia's own parser read the body
  }
}

/**
 * For `.derive()`: authenticates at Elysia's transform stage, before params, query and body are
 * checked, so an anonymous request is a 401 whatever it sends and never learns a schema.
 */
export function authenticate(d: AppDeps) {
  return async ({ request, server }: { request: Request; server: unknown }) => ({ caller: parsedCallers.get(request) ?? (await callerOf(d, request, server as ServerLike | null)) })
}

/** A request turned away: counted by code in /metrics, and logged (above debug only for real failures). */
export function noteRefusal(d: AppDeps, error: RingcastError, request: Request): void {
  d.metrics.reject(error.code)
  // Capacity refusals are expected under load and counted in /metrics; only real failures are logged above debug.
  if (error.code === 'internal' || error.code === 'unavailable') d.logger.error('request failed', { code: error.code, detail: error.message })
  // The path only: a query string may hold an access token.
  else if (d.logger.isEnabled('debug')) d.logger.debug('request refused', { code: error.code, method: request.method, path: new URL(request.url).pathname })
}

/** The Bun server bits routes use, as Elysia's context exposes them. */
export interface ServerLike {
  requestIP(request: Request): { address: string } | null
  timeout(request: Request, seconds: number): void
}

export function remoteOf(server: ServerLike | null, request: Request): string {
  return server?.requestIP(request)?.address ?? 'unknown'
}

/** Streaming and long-poll responses must outlive Bun's idle timeout; heartbeats keep proxies awake. */
export function keepOpen(server: ServerLike | null, request: Request): void {
  server?.timeout(request, 0)
}
