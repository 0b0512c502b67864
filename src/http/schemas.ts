import { Type as T } from '@sinclair/typebox'
import { t } from 'elysia'
import { EventType, Envelope } from '../transports/wire'

// Query and response schemas: the same objects validate requests and describe them in /docs.
// Integers are TypeBox's own, not Elysia's t.Integer, which also takes numeric strings.

const position = {
  after: T.Optional(T.Integer({ minimum: 0, description: 'Replay every event with a larger id (0: all retained history). Last-Event-ID wins over it.' })),
  types: T.Optional(T.Array(EventType, { maxItems: 64, description: 'Only these event types (repeat or comma-separate).' })),
  correlationId: T.Optional(T.String({ minLength: 1, maxLength: 256, description: "Only this workflow's events." })),
}

const polling = {
  since: T.Optional(T.String({ description: 'Start at the first event at or after this ISO 8601 time (polling).' })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (polling); above 1000 is a 400.' })),
  wait: T.Optional(T.Integer({ minimum: 0, maximum: 60, description: 'Long-poll: seconds to wait for an event when the page would be empty; above 60 is a 400.' })),
  before: T.Optional(T.Integer({ minimum: 1, description: 'Page backwards (polling): the `limit` matching events with a smaller id, oldest first, as a UI scrolling back asks; pass the first id of a page to get the one before it. Not with after, since, wait, SSE or export (400).' })),
}

const sse = {
  heartbeat: T.Optional(T.Integer({ minimum: 1, maximum: 300, description: 'Seconds between SSE heartbeat comments (default --heartbeat).' })),
  slow: T.Optional(T.Union([T.Literal('close'), T.Literal('drop')], { description: 'Slow-consumer policy: close (default; resume by id) or drop (skip ahead and get a gap).' })),
  timeout: T.Optional(T.Integer({ minimum: 1, maximum: 86_400, description: 'End the SSE subscription with `event: end` `{"reason":"timeout"}` once it has received no event for this many seconds (at most --idle-timeout when the server sets one).' })),
}

const auth = {
  access_token: T.Optional(T.String({ description: 'Token or ticket, for clients that cannot set headers (EventSource, browser WebSocket). Prefer a ticket from POST /v1/tickets.' })),
}

export const StreamEventsQuery = T.Object({ ...position, ...polling, ...sse, ...auth })

export const EventsQuery = T.Object({
  stream: T.Array(T.String({ minLength: 1 }), { minItems: 1, maxItems: 64, description: 'Streams or patterns (jobs.*, team.7.**); repeat or comma-separate.' }),
  ...position,
  ...polling,
  ...sse,
  ...auth,
})

export const StreamListQuery = T.Object({
  pattern: T.Optional(T.String({ minLength: 1, description: 'Only streams matching this pattern.' })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 10_000, default: 1000, description: 'Streams per page.' })),
  after: T.Optional(T.String({ minLength: 1, description: 'Start after this stream name (the `next` of the previous page).' })),
})

const SubscribeHeaders = T.Object({ 'Last-Event-ID': T.Optional(T.Integer({ minimum: 0, description: 'SSE resume position; wins over `after`.' })) })

/** Queries the routes read themselves (src/http/query.ts, after auth), given to /docs only: Elysia must not check them first. */
export const QUERY_REFERENCES = {
  '/v1/streams/:stream/events': { get: { query: StreamEventsQuery, headers: SubscribeHeaders } },
  '/v1/events': { get: { query: EventsQuery, headers: SubscribeHeaders } },
  '/v1/streams': { get: { query: StreamListQuery } },
}

export const StreamParams = t.Object({ stream: t.String({ description: 'Stream name: dot-separated tokens of [A-Za-z0-9_-], e.g. jobs.42.' }) })

export const PollPage = t.Object({
  events: t.Array(Envelope),
  next: T.Integer({ description: 'Position to poll from next (pass as after).' }),
  closed: t.Boolean(),
  gap: t.Optional(t.Object({ after: T.Integer(), firstId: T.Integer() })),
  reset: t.Optional(t.Object({ after: T.Integer(), lastId: T.Integer() })),
})

export const StoredEvent = t.Composite([Envelope, t.Object({ duplicate: t.Optional(t.Literal(true)) })])

/** A dedup hit answered to a caller that may publish to the stream but not read it. */
export const DuplicateRef = t.Object({ id: T.Integer({ minimum: 1 }), stream: t.String(), duplicate: t.Literal(true) })

export const StreamConfig = t.Object(
  {
    ringSize: t.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
    maxEvents: t.Optional(T.Integer({ minimum: 1 })),
    maxAgeSeconds: t.Optional(T.Integer({ minimum: 1 })),
    ephemeral: t.Optional(t.Boolean()),
  },
  { additionalProperties: false, examples: [{ ringSize: 256, maxEvents: 5000, maxAgeSeconds: 86400 }] },
)

export const StreamInfo = t.Object({
  stream: t.String(),
  events: T.Integer({ description: 'Events retained.' }),
  firstId: t.Union([T.Integer(), t.Null()]),
  lastId: t.Union([T.Integer(), t.Null()]),
  closed: t.Boolean(),
  ephemeral: t.Boolean(),
  ringSize: T.Integer(),
  maxEvents: T.Integer(),
  maxAgeSeconds: T.Integer(),
  subscribers: T.Integer(),
  eventsPerSecond: T.Integer({ description: 'Events appended in the last whole second.' }),
})

export const StreamList = t.Object({
  streams: t.Array(StreamInfo),
  total: T.Integer({ description: 'Streams matching the pattern that the token may see, over all pages.' }),
  next: t.Union([t.String(), t.Null()], { description: 'Pass as `after` for the next page; null on the last page.' }),
})

export const ConnectionInfo = t.Object({
  id: t.String(),
  transport: t.Union([t.Literal('sse'), t.Literal('ws'), t.Literal('poll')]),
  remote: t.String(),
  patterns: t.Array(t.String()),
  delivered: T.Integer(),
  lastEventTime: t.Union([t.String({ format: 'date-time' }), t.Null()]),
  bufferedBytes: T.Integer(),
  connectedAt: t.String({ format: 'date-time' }),
})

export const Problem = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: T.Integer(),
    code: t.String({ description: 'Stable machine-readable code.' }),
    detail: t.String(),
    hint: t.Optional(t.String()),
  },
  { description: 'RFC 9457 problem details (application/problem+json).' },
)
