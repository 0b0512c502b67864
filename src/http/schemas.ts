import { t } from 'elysia'
import { Envelope } from '../transports/wire'

// Query and response schemas: the same objects validate requests and describe them in /docs.

const position = {
  after: t.Optional(t.Integer({ minimum: 0, description: 'Replay every event with a larger id (0: all retained history). Last-Event-ID wins over it.' })),
  types: t.Optional(t.Array(t.String(), { description: 'Only these event types (repeat or comma-separate).' })),
  correlationId: t.Optional(t.String({ minLength: 1, maxLength: 256, description: "Only this workflow's events." })),
}

const polling = {
  since: t.Optional(t.String({ description: 'Start at the first event at or after this ISO 8601 time (polling).' })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (polling); above 1000 is a 400.' })),
  wait: t.Optional(t.Integer({ minimum: 0, maximum: 60, description: 'Long-poll: seconds to wait for an event when the page would be empty; above 60 is a 400.' })),
}

const sse = {
  heartbeat: t.Optional(t.Integer({ minimum: 1, maximum: 300, description: 'Seconds between SSE heartbeat comments (default --heartbeat).' })),
  slow: t.Optional(t.Union([t.Literal('close'), t.Literal('drop')], { description: 'Slow-consumer policy: close (default; resume by id) or drop (skip ahead and get a gap).' })),
}

const auth = {
  access_token: t.Optional(t.String({ description: 'Token or ticket, for clients that cannot set headers (EventSource, browser WebSocket). Prefer a ticket from POST /v1/tickets.' })),
}

// Unknown query parameters are tolerated: EventSource polyfills and cache busters add their own.
const lenient = { additionalProperties: true }

export const StreamEventsQuery = t.Object({ ...position, ...polling, ...sse, ...auth }, lenient)

export const EventsQuery = t.Object(
  {
    stream: t.Array(t.String(), { minItems: 1, description: 'Streams or patterns (jobs.*, team.7.**); repeat or comma-separate.' }),
    ...position,
    ...polling,
    ...sse,
    ...auth,
  },
  lenient,
)

export const StreamParams = t.Object({ stream: t.String({ description: 'Stream name: dot-separated tokens of [A-Za-z0-9_-], e.g. jobs.42.' }) })

export const PollPage = t.Object({
  events: t.Array(Envelope),
  next: t.Integer({ description: 'Position to poll from next (pass as after).' }),
  closed: t.Boolean(),
  gap: t.Optional(t.Object({ after: t.Integer(), firstId: t.Integer() })),
  reset: t.Optional(t.Object({ after: t.Integer(), lastId: t.Integer() })),
})

export const StoredEvent = t.Composite([Envelope, t.Object({ duplicate: t.Optional(t.Literal(true)) })])

export const StreamConfig = t.Object(
  {
    ringSize: t.Optional(t.Integer({ minimum: 1, maximum: 1_000_000 })),
    maxEvents: t.Optional(t.Integer({ minimum: 1 })),
    maxAgeSeconds: t.Optional(t.Integer({ minimum: 1 })),
    ephemeral: t.Optional(t.Boolean()),
  },
  { additionalProperties: false, examples: [{ ringSize: 256, maxEvents: 5000, maxAgeSeconds: 86400 }] },
)

export const StreamInfo = t.Object({
  stream: t.String(),
  events: t.Integer({ description: 'Events retained.' }),
  firstId: t.Union([t.Integer(), t.Null()]),
  lastId: t.Union([t.Integer(), t.Null()]),
  closed: t.Boolean(),
  ephemeral: t.Boolean(),
  ringSize: t.Integer(),
  maxEvents: t.Integer(),
  maxAgeSeconds: t.Integer(),
  subscribers: t.Integer(),
})

export const ConnectionInfo = t.Object({
  id: t.String(),
  transport: t.Union([t.Literal('sse'), t.Literal('ws'), t.Literal('poll')]),
  remote: t.String(),
  patterns: t.Array(t.String()),
  delivered: t.Integer(),
  lastEventTime: t.Union([t.String({ format: 'date-time' }), t.Null()]),
  bufferedBytes: t.Integer(),
  connectedAt: t.String({ format: 'date-time' }),
})

export const Problem = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: t.Integer(),
    code: t.String({ description: 'Stable machine-readable code.' }),
    detail: t.String(),
    hint: t.Optional(t.String()),
  },
  { description: 'RFC 9457 problem details (application/problem+json).' },
)
