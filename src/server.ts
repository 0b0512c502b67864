import { readFileSync } from 'node:fs'
import type { Config } from './config'
import { Hub } from './core/hub'
import { Groups } from './groups/groups'
import { Retention } from './core/retention'
import { Auth } from './auth/auth'
import { JwtVerifier } from './auth/jwt'
import { Tickets } from './auth/tickets'
import { createApp } from './http/app'
import { EventLoopLag } from './event-loop-lag'
import { Origins } from './http/cors'
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
  const hub = new Hub(
    log,
    {
      defaults: { ringSize: config.ringSize, maxEvents: config.retentionEvents, maxAgeSeconds: config.retentionAge, ephemeral: false },
      patternDefaults: config.streams,
      dedupWindowSeconds: config.dedupWindow,
    },
    { committed: (events, ms) => metrics.committed(events, ms) },
  )
  // Consumer groups share the log's database file; leases still running at a restart are honoured.
  const groupLog = new SqliteGroupLog(log.db)
  const groups = new Groups(hub, groupLog, (message, error) => logger.error(message, { error: String((error as Error)?.message ?? error) }))
  groups.load()
  const retention = new Retention(
    log,
    hub.streams,
    { dedupWindowSeconds: config.dedupWindow, ringIdleMs: 60_000, batch: 5000, heldFrom: (stream) => groups.heldFrom(stream) },
    (name) => hub.subscriberCount(name) > 0,
    (n) => (metrics.eventsPruned += n),
  )
  const connections = new Connections(config)
  const sse = new SseTransport(hub, connections, metrics, { bufferLimit: config.bufferLimit, retryMs: 1000 })
  const publishRate = new PublishRate(config.publishRate)
  const ws = new WsTransport(hub, connections, metrics, { bufferLimit: config.bufferLimit, maxSubscriptions: 256 }, wsRules(auth, publishRate))
  ws.useConsumers(new WsConsumers(groups, (client, patterns) => auth.requireWork(client.identity.grants, patterns)))
  hub.hooks.ended = (streams) => ws.ended(streams)
  const poll = new PollTransport(hub, connections, metrics)
  const deps: AppDeps = { config, hub, connections, metrics, logger, sse, ws, poll, groups, auth, publishRate, origins: new Origins(config.corsOrigin), lifecycle, eventLoopLag: new EventLoopLag().start() }

  const app = createApp(deps, VERSION).listen({ hostname: config.host, port: config.port })
  const bun = app.server!
  ws.usePublish((topic, frame) => bun.publish(topic, frame))
  retention.start()

  let stopping: Promise<void> | undefined
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${bun.port}`,
    port: bun.port!,
    stop: () =>
      (stopping ??= (async () => {
        lifecycle.isDraining = true
        retention.stop()
        deps.eventLoopLag.stop()
        // Stop accepting, let in-flight publishes commit, then end every stream so clients reconnect elsewhere.
        const closing = bun.stop(false)
        hub.flushNow()
        connections.closeAll('server shutting down', 1001)
        // Push consumers' leases are released for redelivery; long-polling claims answer empty.
        await groups.stop()
        await Promise.race([closing, Bun.sleep(3000)])
        bun.stop(true)
        hub.flushNow()
        log.checkpoint()
        groupLog.close()
        log.close()
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
    const verifier = new JwtVerifier({ secret: config.jwtSecret, keyText, audience: config.jwtAudience, issuer: config.jwtIssuer })
    return new Auth(verifier, new Tickets(config.jwtSecret))
  } catch (error) {
    throw new AuthConfigError(`invalid --jwt-key ${config.jwtKey}: not a PEM public key or JWKS (${(error as Error).message})`)
  }
}
