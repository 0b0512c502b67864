import { Elysia, t } from 'elysia'
import { type AppDeps, callerOf, type ServerLike } from '../deps'
import { groupMetrics } from '../group-metrics'
import type { CheckpointStats } from '../../store/checkpointer'
import { Problem } from '../schemas'

export function healthRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['operations'] } })
    .get('/healthz', () => ({ status: 'ok' as const }), {
      response: { 200: t.Object({ status: t.Literal('ok') }) },
      detail: { summary: 'Liveness: the process answers', security: [] },
    })
    .get(
      '/readyz',
      async ({ set }) => {
        const problems: string[] = []
        if (d.lifecycle.isDraining) problems.push('draining')
        if (!(await d.hub.isWritable())) problems.push('store not writable')
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
        const hub = d.hub.stats()
        // On a shared log the newest id may be ahead of this node; Redis being away leaves it out.
        const head = await d.hub.head().catch(() => undefined)
        return new Response(
          d.metrics.render({
            ringcast_node_info: { help: 'This node: its name and where its log lives.', values: [[{ node: d.node.name, store: d.node.store }, 1]] },
            ringcast_connections: { help: 'Live subscriptions by transport.', values: (['sse', 'ws', 'poll'] as const).map((tr) => [{ transport: tr }, d.connections.countBy(tr)]) },
            ringcast_streams: { help: 'Streams known to the server.', values: [[null, hub.streams]] },
            ringcast_rings: { help: 'Streams whose ring is in memory.', values: [[null, hub.rings]] },
            ringcast_ring_events: { help: 'Events held in rings.', values: [[null, hub.ringEvents]] },
            ringcast_last_event_id: { help: 'Highest id this node applied.', values: [[null, hub.lastId]] },
            ...(head !== undefined && {
              ringcast_log_head_id: { help: 'Highest id the log issued (with --redis, by any node).', values: [[null, head]] },
              ringcast_follow_lag_events: { help: 'Events issued that this node has not applied yet (0 on one node).', values: [[null, Math.max(0, head - hub.lastId)]] },
            }),
            ringcast_subscription_patterns: { help: 'Patterns held by live subscriptions (capped per connection and per client).', values: [[null, d.connections.patterns]] },
            ringcast_log_bytes: { help: 'Size of the SQLite database and its WAL.', values: [[null, d.hub.logBytes()]] },
            ...checkpointMetrics(d.checkpoints()),
            ringcast_event_loop_lag_seconds: { help: 'Longest a timer waited past its due time over the last 10 to 20 s: how long the event loop was blocked.', values: [[null, d.eventLoopLag.seconds()]] },
            ringcast_limit: { help: 'Configured limits (0: unlimited); ringcast_requests_rejected_total counts what they refused.', values: limits(d) },
            ...(await groupMetrics(d)),
          }),
          { headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' } },
        )
      },
      {
        detail: {
          summary: 'Prometheus metrics (text exposition format); needs an admin token unless --metrics-public',
          responses: {
            200: { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
            401: { description: 'No valid token.', content: { 'application/problem+json': { schema: Problem as never } } },
            403: { description: 'The token is not an admin token.', content: { 'application/problem+json': { schema: Problem as never } } },
          } as never,
        },
      },
    )
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
    [{ limit: 'max_depth' }, c.maxDepth],
    [{ limit: 'max_patterns_per_connection' }, c.maxPatternsPerConnection],
    [{ limit: 'max_patterns_per_client' }, c.maxPatternsPerClient],
    [{ limit: 'max_streams' }, c.maxStreams],
  ]
}

type Gauges = Parameters<AppDeps['metrics']['render']>[0]

/** The SQLite log's checkpoints, done on a thread of their own (none with --redis or --data :memory:). */
function checkpointMetrics(stats: CheckpointStats | undefined): Gauges {
  if (!stats) return {}
  return {
    ringcast_checkpoints_total: { type: 'counter', help: 'WAL checkpoints (SQLite): on the checkpoint thread, but for the rest of a held one that other writes kept from catching up.', values: [[null, stats.checkpoints]] },
    ringcast_checkpoint_seconds_total: { type: 'counter', help: 'Time the checkpoints took; the event loop waits only for the rest of a held one.', values: [[null, stats.seconds]] },
    ringcast_checkpoint_holds_total: { type: 'counter', help: 'Times publishes waited for a checkpoint to catch up so the WAL could start over.', values: [[null, stats.holds]] },
    ringcast_wal_frames: { help: 'Pages in the WAL at the last checkpoint.', values: [[null, stats.walFrames]] },
  }
}
