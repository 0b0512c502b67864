import { Type as T } from '@sinclair/typebox'
import { t } from 'elysia'
import { Envelope } from '../transports/wire'

// Consumer-group bodies and responses: the same objects validate requests and describe them in /docs.

const Patterns = t.Array(t.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 64, description: 'Streams or patterns the group reads (jobs.*, team.7.**).' })
const Ids = t.Array(T.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000, description: 'Event ids.' })
const Consumer = t.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', title: 'a consumer name (1–128 characters, no spaces)', description: 'Name of the worker (no spaces).' })
const SettleConsumer = t.Optional({ ...Consumer, description: 'Only ids this consumer holds are taken; without it, ids held by any consumer are.' })

export const GroupParams = t.Object({ group: t.String({ description: 'Group name: dot-separated tokens of [A-Za-z0-9_-]; its dead letters go to stream dlq.{group}.' }) })

export const GroupBody = t.Object(
  {
    streams: t.Optional(Patterns),
    types: t.Optional(t.Union([t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: 64 }), t.Null()], { description: 'Only these event types (null or [] for all).' })),
    start: t.Optional(
      t.Union([t.Literal('earliest'), t.Literal('latest'), T.Integer({ minimum: 0 })], {
        description: 'Where a new group starts: earliest (all retained history), latest (default: only new events) or after an id. Ignored on update.',
      }),
    ),
    ackTimeout: t.Optional(t.Number({ minimum: 0.1, maximum: 86_400, description: 'Seconds a consumer holds a delivery before it is redelivered (default 30).' })),
    maxDeliveries: t.Optional(T.Integer({ minimum: 1, maximum: 1000, description: 'Attempts before an event goes to dlq.{group} (default 5).' })),
    ordering: t.Optional(t.Union([t.Literal('none'), t.Literal('stream')], { description: 'stream: at most one event of each stream in flight, in order (default none).' })),
  },
  { additionalProperties: false, examples: [{ streams: ['jobs.*'], start: 'earliest', ackTimeout: 30, maxDeliveries: 5, ordering: 'stream' }] },
)

export const ClaimBody = t.Object(
  {
    consumer: Consumer,
    max: t.Optional(T.Integer({ minimum: 1, maximum: 1000, description: 'Most deliveries to return (default 1).' })),
    wait: t.Optional(t.Number({ minimum: 0, maximum: 60, description: 'Long-poll: seconds to wait when nothing is ready (default 0); answers the moment something is.' })),
  },
  { additionalProperties: false, examples: [{ consumer: 'worker-1', max: 10, wait: 20 }] },
)

export const AckBody = t.Object({ consumer: SettleConsumer, ids: Ids }, { additionalProperties: false, examples: [{ consumer: 'worker-1', ids: [41, 42] }] })
export const NackBody = t.Object(
  { consumer: SettleConsumer, ids: Ids, delay: t.Optional(t.Number({ minimum: 0, maximum: 86_400, description: 'Seconds before it may be delivered again (default 0).' })) },
  { additionalProperties: false },
)
export const TermBody = t.Object(
  { consumer: SettleConsumer, ids: Ids, reason: t.Optional(t.String({ maxLength: 1024, description: 'Stored in the dead letter.' })) },
  { additionalProperties: false },
)
export const ReplayBody = t.Optional(
  t.Object({ ids: t.Optional(t.Array(T.Integer({ minimum: 1 }), { maxItems: 10_000, description: 'Ids of dead_letter events in dlq.{group}; all retained ones when absent.' })) }, { additionalProperties: false }),
)

export const Settled = t.Object({
  ok: t.Array(T.Integer(), { description: 'Ids taken.' }),
  notHeld: t.Array(T.Integer(), { description: 'Ids this consumer does not hold (never delivered, already settled, or its lease passed): nothing was done to them.' }),
  deadline: t.Optional(t.String({ format: 'date-time', description: 'extend: the new deadline of the ids taken.' })),
})

export const ClaimResult = t.Object({
  deliveries: t.Array(
    t.Object({
      event: Envelope,
      attempt: T.Integer({ minimum: 1, description: '1 on first delivery, +1 on each redelivery.' }),
      deadline: t.String({ format: 'date-time', description: 'Ack, extend, nack or term before this, or it is redelivered.' }),
    }),
  ),
})

export const GroupInfo = t.Object({
  group: t.String(),
  streams: t.Array(t.String()),
  types: t.Union([t.Array(t.String()), t.Null()]),
  start: t.Union([t.String(), T.Integer()]),
  ackTimeout: t.Number(),
  maxDeliveries: T.Integer(),
  ordering: t.String(),
  dlq: t.String({ description: 'The dead-letter stream.' }),
  createdAt: t.String({ format: 'date-time' }),
  cursor: T.Integer({ description: 'Every matching event up to this id has been read by the group.' }),
  lag: T.Integer({ description: 'Matching events not yet delivered to any consumer.' }),
  pending: T.Integer({ description: 'Delivered and not yet acked or dead-lettered.' }),
  inFlight: T.Integer({ description: 'Held by a consumer right now.' }),
  consumers: t.Array(t.Object({ consumer: t.String(), inFlight: T.Integer(), lastSeen: t.Union([t.String({ format: 'date-time' }), t.Null()]) })),
  acks: T.Integer(),
  acksPerSecond: t.Number({ description: 'Over the last 10 s.' }),
  redeliveries: T.Integer(),
  deadLetters: T.Integer(),
  gaps: T.Integer({ description: 'Times retention removed matching events before the group read them.' }),
  lastGap: t.Union([t.Object({ after: T.Integer(), firstId: T.Integer(), time: t.String({ format: 'date-time' }) }), t.Null()]),
})

export const ReplayResult = t.Object({
  replayed: t.Array(t.Object({ deadLetter: T.Integer(), stream: t.String(), id: T.Integer(), duplicate: t.Boolean() })),
  failed: t.Array(t.Object({ deadLetter: T.Integer(), code: t.String(), message: t.String() })),
  notFound: t.Array(T.Integer()),
})
