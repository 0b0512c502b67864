import type { Auth } from '../auth/auth'
import type { Grants } from '../auth/grants'
import type { Config } from '../config'
import type { EventLoopLag } from '../event-loop-lag'
import type { Hub } from '../core/hub'
import type { Groups } from '../groups/groups'
import type { Logger } from '../logger'
import type { Metrics } from '../metrics'
import type { Connections } from '../transports/connections'
import type { PollTransport } from '../transports/poll'
import type { SseTransport } from '../transports/sse'
import type { WsTransport } from '../transports/ws'
import { isSameOrigin, type Origins } from './cors'
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
  groups: Groups
  auth: Auth
  publishRate: PublishRate
  origins: Origins
  lifecycle: { isDraining: boolean }
  eventLoopLag: EventLoopLag
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
  const origin = request.headers.get('origin')
  const allowCookie = origin === null || isSameOrigin(request) || d.origins.isListed(origin)
  const grants = await d.auth.identify(request, allowCookie)
  return new RequestCaller(grants, server, request)
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
