import { type Static, Type as T } from '@sinclair/typebox'

// Wire schemas shared by the HTTP routes (validation and OpenAPI) and the WebSocket protocol.

/** Frames and bodies smaller than this go out uncompressed: compressing them saves less than it costs. */
export const MIN_COMPRESS_BYTES = 1024

// A `title` on a patterned string is how a refusal names what was expected (src/validation.ts).
export const StreamName = T.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,64}){0,15}$', title: 'a stream name (dot-separated tokens of [A-Za-z0-9_-])', examples: ['jobs.42'] })
export const EventType = T.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', title: 'an event type (1–128 characters, no spaces)', examples: ['stage_completed'] })
const Key = T.String({ minLength: 1, maxLength: 256 })

export const PublishItem = T.Object(
  {
    type: T.Optional(EventType),
    data: T.Any({ description: 'Any JSON value.', examples: [{ stage: 'render', status: 'ok' }] }),
    key: T.Optional({ ...Key, description: 'Idempotency key: a repeat within the dedup window is not stored again.' }),
    correlationId: T.Optional({ ...Key, description: 'Groups the events of one workflow; subscriptions may narrow to it.' }),
    terminal: T.Optional(T.Boolean({ description: 'Closes the stream with this event.' })),
  },
  { additionalProperties: false },
)
export type PublishItem = Static<typeof PublishItem>

export const Envelope = T.Object(
  {
    id: T.Integer({ minimum: 1, description: 'Global sequence number: the resume position everywhere.' }),
    stream: StreamName,
    type: EventType,
    data: T.Any(),
    time: T.String({ format: 'date-time' }),
    key: T.Optional(Key),
    correlationId: T.Optional(Key),
  },
  { examples: [{ id: 1234, stream: 'jobs.42', type: 'stage_completed', data: { stage: 'render', status: 'ok' }, time: '2026-11-22T04:00:00.000Z' }] },
)

const Sub = T.String({ minLength: 1, maxLength: 128 })
const Patterns = T.Array(T.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 64 })

export const WsSubscribe = T.Object(
  {
    op: T.Literal('subscribe'),
    sub: Sub,
    streams: Patterns,
    types: T.Optional(T.Array(EventType, { maxItems: 64 })),
    correlationId: T.Optional(Key),
    after: T.Optional(T.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)
export const WsUnsubscribe = T.Object({ op: T.Literal('unsubscribe'), sub: Sub }, { additionalProperties: false })
export const WsPublish = T.Object(
  {
    op: T.Literal('publish'),
    ref: T.Optional(T.String({ maxLength: 128 })),
    stream: StreamName,
    type: T.Optional(EventType),
    data: T.Any(),
    key: T.Optional(Key),
    correlationId: T.Optional(Key),
    terminal: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
)
export const WsPing = T.Object({ op: T.Literal('ping'), ref: T.Optional(T.String({ maxLength: 128 })) }, { additionalProperties: false })

export type WsSubscribe = Static<typeof WsSubscribe>
export type WsPublish = Static<typeof WsPublish>

// Consumer groups over WebSocket: a credit-based consume subscription and the settle ops.
const GroupName = T.String({ minLength: 1, maxLength: 250 })
const Ref = T.Optional(T.String({ maxLength: 128 }))
const Ids = T.Array(T.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 })
export const WsConsume = T.Object(
  {
    op: T.Literal('consume'),
    sub: Sub,
    group: GroupName,
    consumer: T.Optional(T.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$' })),
    max: T.Optional(T.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
)
export const WsAck = T.Object({ op: T.Literal('ack'), ref: Ref, group: GroupName, ids: Ids }, { additionalProperties: false })
export const WsExtend = T.Object({ op: T.Literal('extend'), ref: Ref, group: GroupName, ids: Ids }, { additionalProperties: false })
export const WsNack = T.Object({ op: T.Literal('nack'), ref: Ref, group: GroupName, ids: Ids, delay: T.Optional(T.Number({ minimum: 0, maximum: 86_400 })) }, { additionalProperties: false })
export const WsTerm = T.Object({ op: T.Literal('term'), ref: Ref, group: GroupName, ids: Ids, reason: T.Optional(T.String({ maxLength: 1024 })) }, { additionalProperties: false })

export type WsConsume = Static<typeof WsConsume>
/** Any of ack, nack, extend, term. */
export type WsSettle = { op: 'ack' | 'nack' | 'extend' | 'term'; ref?: string; group: string; ids: number[]; delay?: number; reason?: string }
