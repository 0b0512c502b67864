import { Elysia, t } from 'elysia'
import { type AppDeps, callerOf, type ServerLike } from '../deps'
import { groupMetrics } from '../group-metrics'

export function healthRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['operations'] } })
    .get('/healthz', () => ({ status: 'ok' as const }), {
      response: { 200: t.Object({ status: t.Literal('ok') }) },
      detail: { summary: 'Liveness: the process answers', security: [] },
    })
    .get(
      '/readyz',
      ({ set }) => {
        const problems: string[] = []
        if (d.lifecycle.isDraining) problems.push('draining')
        if (!d.hub.log.isWritable()) problems.push('store not writable')
        if (problems.length > 0) set.status = 503
        return { status: problems.length === 0 ? 'ready' : 'not ready', problems }
      },
      {
        response: { 200: t.Object({ status: t.String(), problems: t.Array(t.String()) }), 503: t.Object({ status: t.String(), problems: t.Array(t.String()) }) },
        detail: { summary: 'Readiness: the store is writable and the server is not draining', security: [] },
      },
    )
    .get(
      '/metrics',
      async ({ request, server }) => {
        if (!d.config.metricsPublic) d.auth.requireAdmin((await callerOf(d, request, server as ServerLike | null)).grants)
        return new Response(
          d.metrics.render({
            ringcast_connections: { help: 'Live subscriptions by transport.', values: (['sse', 'ws', 'poll'] as const).map((tr) => [{ transport: tr }, d.connections.countBy(tr)]) },
            ringcast_streams: { help: 'Streams known to the server.', values: [[null, countStreams(d)]] },
            ringcast_rings: { help: 'Streams whose ring is in memory.', values: [[null, countRings(d).rings]] },
            ringcast_ring_events: { help: 'Events held in rings.', values: [[null, countRings(d).events]] },
            ringcast_last_event_id: { help: 'Highest id issued.', values: [[null, d.hub.lastId]] },
            ringcast_log_bytes: { help: 'Size of the SQLite database and its WAL.', values: [[null, d.hub.log.sizeBytes()]] },
            ringcast_event_loop_lag_seconds: { help: 'Longest a timer waited past its due time over the last 10 to 20 s: how long the event loop was blocked.', values: [[null, d.eventLoopLag.seconds()]] },
            ringcast_limit: { help: 'Configured limits (0: unlimited); ringcast_requests_rejected_total counts what they refused.', values: limits(d) },
            ...groupMetrics(d),
          }),
          { headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' } },
        )
      },
      { detail: { summary: 'Prometheus metrics (text exposition format); needs an admin token unless --metrics-public' } },
    )
}

function countStreams(d: AppDeps): number {
  let n = 0
  for (const _ of d.hub.streams.all()) n++
  return n
}

function countRings(d: AppDeps): { rings: number; events: number } {
  let rings = 0
  let events = 0
  for (const s of d.hub.streams.all()) {
    if (!s.ring) continue
    rings++
    events += s.ring.size
  }
  return { rings, events }
}

function limits(d: AppDeps): [Record<string, string>, number][] {
  const c = d.config
  return [
    [{ limit: 'max_payload_bytes' }, c.maxPayload],
    [{ limit: 'max_batch' }, c.maxBatch],
    [{ limit: 'max_connections' }, c.maxConnections],
    [{ limit: 'max_connections_per_client' }, c.maxConnectionsPerClient],
    [{ limit: 'publish_rate' }, c.publishRate],
    [{ limit: 'buffer_limit_bytes' }, c.bufferLimit],
  ]
}
