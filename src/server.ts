import { readFileSync } from 'node:fs'
import type { Config } from './config'
import { Hub } from './core/hub'
import { Groups } from './groups/groups'
import { Auth } from './auth/auth'
import { JwtVerifier } from './auth/jwt'
import { Tickets } from './auth/tickets'
import { createApp } from './http/app'
import { Origins } from './http/cors'
import { HostGuard } from './http/host-guard'
import { PublishRate } from './http/publish-rate'
import { wsRules } from './http/ws-rules'
import type { AppDeps } from './http/deps'
import { Logger } from './logger'
import { Metrics } from './metrics'
import { SqliteGroupLog } from './store/sqlite-group-log'
import { SqliteLog } from './store/sqlite-log'
import { Connections } from './transports/connections'
import { PollTransport } from './transports/poll'
import { SseTransport } from './transports/sse'
import { WsTransport } from './transports/ws'
import { WsConsumers } from './transports/ws-consumer'

export const VERSION = '0.1.0'

/** A running server; `stop()` drains it. */
export interface Server {
  url: string
  port: number
  stop(): Promise<void>
}

/** Composition root: config → auth → log → hub → transports → app → listen. */
export async function startServer(config: Config, logger = new Logger(config.logLevel)): Promise<Server> {
  const auth = createAuth(config)
  const log = new SqliteLog({ path: config.data, durability: config.durability })
  const metrics = new Metrics()
  const lifecycle = { isDraining: false }
  const hub = await Hub.open(
    log,
    {
      defaults: { ringSize: config.ringSize, maxEvents: config.retentionEvents, maxAgeSeconds: config.retentionAge, ephemeral: false },
      patternDefaults: config.streams,
      dedupWindowSeconds: config.dedupWindow,
      maxStreams: config.maxStreams,
    },
    {
      committed: (stats) => metrics.committed(stats),
      failed: (message, error) => logger.error(message, { error: String((error as Error)?.stack ?? error) }),
      pruned: (n) => (metrics.eventsPruned += n),
    },
  )
  // Consumer groups share the log's database file; leases still running at a restart are honoured.
  const groupLog = new SqliteGroupLog(log.db)
  const groups = new Groups(hub, groupLog, (message, error) => logger.error(message, { error: String((error as Error)?.message ?? error) }))
  await groups.load()
  const connections = new Connections(config)
  const sse = new SseTransport(hub, connections, metrics, { bufferLimit: config.bufferLimit, retryMs: 1000 })
  const publishRate = new PublishRate(config.publishRate)
  let bun: ReturnType<typeof Bun.serve> | undefined
  const consumers = new WsConsumers(groups, (client, group, patterns) => auth.requireWork(client.identity.grants, group, patterns))
  const publishFrame = (topic: string, frame: string) => bun?.publish(topic, frame) ?? 0
  const ws = new WsTransport(hub, connections, metrics, { bufferLimit: config.bufferLimit, maxSubscriptions: 256 }, wsRules({ auth, publishRate, hub, config }), publishFrame, consumers)
  hub.hooks.ended = (streams) => ws.ended(streams)
  const poll = new PollTransport(hub, connections, metrics)
  const origins = new Origins(config.corsOrigin)
  const hostGuard = new HostGuard(auth.isOpen, config.allowedHosts, origins)
  const deps: AppDeps = { config, hub, connections, metrics, logger, sse, ws, poll, groups, auth, publishRate, origins, hostGuard, lifecycle }

  const app = createApp(deps, VERSION).listen({ hostname: config.host, port: config.port })
  const server = app.server!
  bun = server
  hub.startRetention({ ringIdleMs: 60_000, batch: 5000, heldFrom: (stream) => groups.heldFrom(stream) })

  let stopping: Promise<void> | undefined
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${server.port}`,
    port: server.port!,
    stop: () =>
      (stopping ??= (async () => {
        lifecycle.isDraining = true
        // Stop accepting, let in-flight publishes commit, then end every stream so clients reconnect elsewhere.
        const closing = server.stop(false)
        await hub.drain()
        connections.closeAll('server shutting down', 1001)
        // Push consumers' leases are released for redelivery; long-polling claims answer empty.
        await groups.stop()
        await Promise.race([closing, Bun.sleep(3000)])
        server.stop(true)
        await hub.drain()
        log.checkpoint()
        groupLog.close()
        await log.close()
      })()),
  }
}

/** A bad key is a start-up error naming the setting. */
export class AuthConfigError extends Error {}

function createAuth(config: Config): Auth {
  let keyText: string | undefined
  if (config.jwtKey) {
    try {
      keyText = readFileSync(config.jwtKey, 'utf8')
    } catch (error) {
      throw new AuthConfigError(`invalid --jwt-key ${config.jwtKey}: cannot read it (${(error as Error).message})`)
    }
  }
  if (!config.jwtSecret && keyText === undefined) return new Auth(null, new Tickets())
  try {
    const verifier = new JwtVerifier({ secret: config.jwtSecret, keyText, audience: config.jwtAudience, issuer: config.jwtIssuer, maxAgeSeconds: config.jwtMaxAge })
    return new Auth(verifier, new Tickets(config.jwtSecret))
  } catch (error) {
    throw new AuthConfigError(`invalid --jwt-key ${config.jwtKey}: not a PEM public key or JWKS (${(error as Error).message})`)
  }
}
