import type { Static } from '@sinclair/typebox'
import type { ClaimResult, GroupBody, GroupInfo as GroupInfoSchema, Settled as SettledSchema } from '../http/group-schemas'
import type { ConnectionInfo as ConnectionInfoSchema, PollPage, StoredEvent as StoredEventSchema, StreamInfo as StreamInfoSchema } from '../http/schemas'
import type { Envelope as EnvelopeSchema, PublishItem as PublishItemSchema } from '../transports/wire'

// The wire shapes, derived from the schemas the server validates with (type-only: no TypeBox in the bundle).
// scripts/build-client.ts prints the same schemas into dist/client/types.d.ts, so users need no TypeBox.

/** An event as every transport delivers it. */
export type Envelope = Static<typeof EnvelopeSchema>
/** One event to publish. */
export type PublishItem = Static<typeof PublishItemSchema>
/** A stored event as a publish answers it; `duplicate` on a dedup hit (then only `id` is sure to be there). */
export type StoredEvent = Static<typeof StoredEventSchema>
/** Retention removed part of the requested history: events after `after` resume at `firstId`. */
export type Gap = Static<typeof PollPage.properties.gap>
/** The position asked for was never issued (the server's data was replaced): delivery goes on after `lastId`. */
export type Reset = Static<typeof PollPage.properties.reset>
/** GET /v1/streams/{stream}. */
export type StreamInfo = Static<typeof StreamInfoSchema>
/** GET /v1/connections/{id}. */
export type ConnectionInfo = Static<typeof ConnectionInfoSchema>
/** GET /v1/groups/{group}. */
export type GroupInfo = Static<typeof GroupInfoSchema>
/** PUT /v1/groups/{group}. */
export type GroupConfig = Static<typeof GroupBody>
/** One claimed event with its attempt and lease deadline. */
export type Delivery = Static<typeof ClaimResult.properties.deliveries.items>
/** What ack, nack, extend and term took. */
export type Settled = Static<typeof SettledSchema>
