import { Type as T } from '@sinclair/typebox'
import { Elysia, t } from 'elysia'
import { SSE_HEADERS } from '../../transports/sse'
import { type AppDeps, callerOf, keepOpen, type ServerLike } from '../deps'
import { Problem } from '../schemas'
import { HISTORY, StatsFeed, type StatsReading } from '../stats-feed'

const perTransport = (description: string) => t.Object({ sse: t.Number(), ws: t.Number(), poll: t.Number() }, { description })

const StatsSampleSchema = t.Object(
  {
    timeMs: T.Integer({ description: 'When the sample was taken (epoch ms).' }),
    uptimeSeconds: T.Integer({ description: 'Seconds since the server started.' }),
    eventsPerSecond: t.Number({ description: 'Events committed per second over the last interval (dedup hits excluded).' }),
    deliveriesPerSecond: perTransport('Events written to subscribers per second, by transport.'),
    commitP95Ms: t.Union([t.Number(), t.Null()], { description: "Publish→commit latency p95 over the last interval (ms), from the histogram's bucket deltas; null when nothing was committed." }),
    connections: perTransport('Live subscriptions now, by transport.'),
    slowDisconnectsPerSecond: t.Number({ description: 'Connections closed per second for passing --buffer-limit.' }),
    rejectedPerSecond: t.Number({ description: 'Requests answered with a 4xx or 5xx problem, per second.' }),
    streams: T.Integer({ description: 'Streams known to the server.' }),
    lastId: T.Integer({ description: 'Highest id issued.' }),
    rssBytes: T.Integer({ description: 'Resident memory of the process.' }),
  },
  {
    description: 'One sample: the data of each `stats` event.',
    examples: [
      {
        timeMs: 1795400000000,
        uptimeSeconds: 3600,
        eventsPerSecond: 120,
        deliveriesPerSecond: { sse: 12000, ws: 2400, poll: 30 },
        commitP95Ms: 1.8,
        connections: { sse: 100, ws: 20, poll: 3 },
        slowDisconnectsPerSecond: 0,
        rejectedPerSecond: 0,
        streams: 42,
        lastId: 981234,
        rssBytes: 73400320,
      },
    ],
  },
)

const DESCRIPTION =
  'With `Accept: text/event-stream` (what the dashboard at `/` reads): `retry: 2000`, one `history` event whose data is an array of the samples kept ' +
  `(up to ${HISTORY}, oldest first), then one \`stats\` event per second whose data is a sample. Rates cover the interval since the previous sample. ` +
  'Otherwise the newest sample as JSON. Needs an admin token unless the server runs with --metrics-public, like /metrics.'

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } })

/** Whether no counter or gauge moved since the last call, comparing plain numbers (nothing allocated). */
function quietness(d: AppDeps): () => boolean {
  let activity = -1
  let lastId = -1
  let streams = -1
  let sse = -1
  let ws = -1
  let poll = -1
  return () => {
    const c = d.connections
    const a = d.metrics.activity()
    const l = d.hub.lastId
    const n = d.hub.streamCount
    const s = c.countBy('sse')
    const w = c.countBy('ws')
    const p = c.countBy('poll')
    const isQuiet = a === activity && l === lastId && n === streams && s === sse && w === ws && p === poll
    activity = a
    lastId = l
    streams = n
    sse = s
    ws = w
    poll = p
    return isQuiet
  }
}

/** Counters and gauges read once a second through the public parts of the server only. */
function readingOf(d: AppDeps): StatsReading {
  const m = d.metrics
  return {
    eventsPublished: m.eventsPublished,
    deliveries: { ...m.deliveries },
    slowDisconnects: m.slowDisconnects.sse + m.slowDisconnects.ws,
    rejected: m.rejectedTotal,
    commits: m.commitHistogram(),
    connections: { sse: d.connections.countBy('sse'), ws: d.connections.countBy('ws'), poll: d.connections.countBy('poll') },
    streams: d.hub.streamCount,
    lastId: d.hub.lastId,
  }
}

export function statsRoutes(d: AppDeps) {
  const feed = new StatsFeed(
    () => readingOf(d),
    () => d.lifecycle.isDraining,
    (watchers) => d.logger.debug('stats stream ended', { watchers }),
    1000,
    quietness(d),
  )
  return new Elysia({ detail: { tags: ['operations'] } }).get(
    '/v1/stats',
    async ({ request, server }) => {
      if (!d.config.metricsPublic) d.auth.requireAdmin((await callerOf(d, request, server as ServerLike | null)).grants)
      if (!(request.headers.get('accept') ?? '').includes('text/event-stream')) return Response.json(feed.latest())
      keepOpen(server as ServerLike | null, request)
      return new Response(feed.open(request.signal), { headers: SSE_HEADERS })
    },
    {
      detail: {
        summary: 'Server stats once a second (SSE) for the dashboard; needs an admin token unless --metrics-public',
        description: DESCRIPTION,
        responses: {
          200: {
            description: 'The stats stream, or the newest sample.',
            content: {
              'text/event-stream': { schema: { type: 'string' }, example: 'event: stats\ndata: {"timeMs":1795400000000,"uptimeSeconds":3600,"eventsPerSecond":120,…}\n\n' },
              'application/json': { schema: StatsSampleSchema },
            },
          },
          401: problem('No valid token.'),
          403: problem('The token is not an admin token.'),
        } as never,
      },
    },
  )
}
