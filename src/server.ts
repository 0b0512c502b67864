import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { Config } from './config'
import { Hub, type HubHooks, type HubOptions } from './core/hub'
import type { EventLog } from './core/log'
import type { ConsumerGroups } from './groups/consumer-groups'
import { Groups } from './groups/groups'
import { SharedGroups } from './groups/shared/shared-groups'
import { Auth } from './auth/auth'
import { JwtVerifier } from './auth/jwt'
import { Tickets } from './auth/tickets'
import { EventMirror } from './event-mirror'
import { Filter, Selector } from './core/filter'
import { createApp } from './http/app'
import { EventLoopLag } from './event-loop-lag'
import { Origins } from './http/cors'
import { HostGuard } from './http/host-guard'
import { PublishRate } from './http/publish-rate'
import { wsRules } from './http/ws-rules'
import type { AppDeps } from './http/deps'
import { Listener, readTls, type TlsFiles } from './listener'
import { Logger } from './logger'
import { Metrics } from './metrics'
import { SqliteGroupLog } from './store/sqlite-group-log'
import { RedisGroupStore } from './store/redis/redis-group-store'
import { RedisLog } from './store/redis/redis-log'
import { SqliteLog } from './store/sqlite-log'
import { type Connection, Connections, type ConnectionObserver } from './transports/connections'
import { PollTransport } from './transports/poll'
import { SseTransport } from './transports/sse'
import { WsTransport } from './transports/ws'
import { WsConsumers } from './transports/ws-consumer'

export const VERSION = '0.1.0'

/** What a stop drained: the live connections it ended, by transport, and how long it took. */
export interface Drained {
  sse: number
  ws: number
  poll: number
  ms: number
}

/** A running server; `stop()` drains it. */
export interface Server {
  url: string
  port: number
  /** This node's name (--node, or host:port). */
  node: string
  stop(): Promise<Drained>
  /** Reads --tls-cert/--tls-key again and serves new connections with them; throws TlsError, keeping the old ones. */
  reloadTls(): void
}

/** Composition root: config → auth → log → hub → transports → app → listen. */
export async function startServer(config: Config, logger = new Logger(config.logLevel, config.logFormat)): Promise<Server> {
  const auth = createAuth(config)
  const tlsFiles = () => (config.tlsCert && config.tlsKey ? readTls(config.tlsCert, config.tlsKey) : undefined)
  const tls = tlsFiles()
  // With --redis the node keeps nothing a client depends on on local disk.
  const sqlite = config.redis ? undefined : new SqliteLog({ path: config.data, durability: config.durability, onProblem: (message) => logger.warn(message) })
  const log = sqlite ?? new RedisLog({ url: config.redis! })
  const metrics = new Metrics()
  const lifecycle = { isDraining: false }
  const hub = await openHub(
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
      reachable: (isReachable, reason) =>
        isReachable ? logger.info('Redis answers again: following the cluster and taking publishes') : logger.warn('Redis unreachable: publishes answer 503 until it is back', { reason }),
    },
  )
  if (log instanceof RedisLog) for (const warning of await log.durabilityWarnings()) logger.warn(warning)
  const groupErrors = (message: string, error: unknown) => logger.error(message, { error: String((error as Error)?.message ?? error) })
  // On SQLite, groups share the log's database file; leases still running at a restart are honoured.
  const groupLog = sqlite && new SqliteGroupLog(sqlite.db)
  const localGroups = groupLog && new Groups(hub, groupLog, groupErrors)
  // With --redis, every node works every group through Redis; other nodes' changes arrive as signals.
  const groupStore = config.redis ? new RedisGroupStore({ url: config.redis }) : undefined
  const sharedGroups = groupStore && new SharedGroups(hub, groupStore, groupErrors)
  const groups: ConsumerGroups & { load(): Promise<void> } = localGroups ?? sharedGroups!
  await groups.load()
  hub.hooks.signal = (name) => sharedGroups?.signal(name)
  if (config.logEvents) hub.subscribe(new Selector([new Filter(['**'])]), new EventMirror(config.logFormat))
  const connections = new Connections(config, logger.isEnabled('debug') ? connectionLog(logger) : undefined)
  hub.hooks.reloaded = () => {
    connections.closeAll('the node reloaded from Redis: resume from your last id', 1012)
    sharedGroups?.reload().catch((error) => groupErrors('reading groups after a reload failed', error))
  }
  const sse = new SseTransport(hub, connections, metrics, { bufferLimit: config.bufferLimit, retryMs: 1000 })
  const publishRate = new PublishRate(config.publishRate)
  // Bun's publish exists only once the app listens: WebSocket frames go through this from then on.
  let publishTo: (topic: string, frame: string) => number = () => 0
  const consumers = new WsConsumers(
    groups,
    (client, group, patterns) => auth.requireWork(client.identity.grants, group, patterns),
    (client) => connections.has(client),
  )
  const ws = new WsTransport(hub, connections, metrics, { bufferLimit: config.bufferLimit, maxSubscriptions: 256 }, wsRules({ auth, publishRate, hub, config }), (topic, frame) => publishTo(topic, frame), consumers)
  hub.hooks.ended = (streams) => ws.ended(streams)
  const poll = new PollTransport(hub, connections, metrics)
  const origins = new Origins(config.corsOrigin)
  const hostGuard = new HostGuard(auth.isOpen, config.allowedHosts, origins)
  const node = { name: config.node ?? '', store: sqlite ? ('sqlite' as const) : ('redis' as const) }
  const deps: AppDeps = { config, hub, connections, metrics, logger, sse, ws, poll, groups, auth, publishRate, origins, hostGuard, lifecycle, node, eventLoopLag: new EventLoopLag().start(), checkpoints: () => sqlite?.checkpoints() }

  const app = createApp(deps, VERSION)
  // A TLS reload listens again on the port first chosen (which matters when --port is 0).
  let port = config.port
  const listener = new Listener((files: TlsFiles | undefined) => app.listen({ hostname: config.host, port, ...(files && { tls: files }) }).server!, tls)
  port = listener.port
  node.name ||= `${hostname()}:${port}`
  publishTo = (topic, frame) => listener.publish(topic, frame)
  // Shared groups' holds are read by the Redis pruner itself (rc:gh), in the same atomic step as the delete.
  hub.startRetention({ ringIdleMs: 60_000, batch: 5000, heldFrom: localGroups && ((stream) => localGroups.heldFrom(stream)) })

  let stopping: Promise<Drained> | undefined
  return {
    url: `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    port,
    node: node.name,
    reloadTls: () => {
      const files = tlsFiles()
      if (files) listener.reload(files)
    },
    stop: () =>
      (stopping ??= (async () => {
        const started = performance.now()
        const drained = { sse: connections.countBy('sse'), ws: connections.countBy('ws'), poll: connections.countBy('poll') }
        lifecycle.isDraining = true
        deps.eventLoopLag.stop()
        // Stop accepting, let in-flight publishes commit, then end every stream so clients reconnect elsewhere.
        const closing = listener.stop(false)
        await hub.drain()
        connections.closeAll('server shutting down', 1001)
        // Push consumers' leases are released for redelivery; long-polling claims answer empty.
        await groups.stop()
        await Promise.race([closing, Bun.sleep(3000)])
        void listener.stop(true)
        await hub.drain()
        hub.detach()
        groupLog?.close()
        await groupStore?.close()
        await log.close()
        return { ...drained, ms: Math.round(performance.now() - started) }
      })()),
  }
}

/** The debug connection log: each live subscription as it opens and ends (never its token). */
function connectionLog(logger: Logger): ConnectionObserver {
  const fields = (c: Connection) => ({ id: c.id, transport: c.transport, remote: c.remote, patterns: c.patterns().join(',') })
  return {
    opened: (c) => logger.debug('connection open', fields(c)),
    closed: (c) => logger.debug('connection closed', { ...fields(c), delivered: c.delivered, seconds: Math.round((Date.now() - c.connectedAt) / 100) / 10 }),
  }
}

/** A bad key is a start-up error naming the setting. */
export class AuthConfigError extends Error {}

/** Redis could not be reached at start: a start-up error naming --redis (once running, the node waits for it instead). */
export class RedisStartError extends Error {}

async function openHub(log: EventLog, options: HubOptions, hooks: HubHooks): Promise<Hub> {
  try {
    return await Hub.open(log, options, hooks)
  } catch (error) {
    if (log instanceof RedisLog) throw new RedisStartError(`invalid --redis: cannot reach it (${(error as Error).message})`)
    throw error
  }
}

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
