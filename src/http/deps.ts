import type { Config } from '../config'
import type { Hub } from '../core/hub'
import type { Logger } from '../logger'
import type { Metrics } from '../metrics'
import type { Connections } from '../transports/connections'
import type { PollTransport } from '../transports/poll'
import type { SseTransport } from '../transports/sse'
import type { WsTransport } from '../transports/ws'

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
  lifecycle: { isDraining: boolean }
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
