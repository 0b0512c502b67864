import type { Event } from '../core/event'
import type { ReplayResult } from './dead-letters'
import type { Settled } from './delivery'
import type { GroupRecord } from './group-log'
import type { GroupStats } from './group-stats'
import type { GroupSpec } from './live'

/** One delivery as a consumer receives it: the event, which attempt this is, and when the lease ends. */
export interface Claimed {
  readonly event: Event
  readonly attempt: number
  readonly deadlineMs: number
}

/** What GET /v1/groups/{group} reports, the same from every node. */
export type GroupView = GroupRecord & GroupStats

/** A WebSocket consume subscription as the groups hand it back: closing it releases what it holds (attempt counted). */
export interface PushHandle {
  close(): void
}

/**
 * Consumer groups as routes, WebSocket consumers and metrics use them, whatever keeps their state
 * (SQLite on one node, Redis shared by many). Every operation on an unknown group throws not_found.
 */
export interface ConsumerGroups {
  /** Every group, by name, with its stats. */
  list(): Promise<GroupView[]>
  view(name: string): Promise<GroupView>
  /** The patterns a group reads (to authorise its workers), or undefined when there is no such group. */
  patterns(name: string): Promise<readonly string[] | undefined>
  /** Creates or updates a group; `start` is read only at creation. */
  put(name: string, spec: GroupSpec): Promise<{ view: GroupView; isNew: boolean }>
  /** Forgets a group, its cursor and its leases; its consumers are let go. The DLQ stream stays. */
  delete(name: string): Promise<boolean>
  /** Up to `max` deliveries for `consumer`; with `waitMs`, waits until something is ready (or the wait ends). */
  claim(name: string, consumer: string, max: number, waitMs: number, signal?: AbortSignal): Promise<Claimed[]>
  /** Resolves once the acks are stored: an acked event never comes back. */
  ack(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled>
  /** Releases held ids for redelivery after `delaySec`; at their last attempt they are dead-lettered (awaited). */
  nack(name: string, consumer: string | null, ids: readonly number[], delaySec?: number): Promise<Settled>
  /** Pushes the deadline of held ids to ackTimeout from now; returns that deadline. */
  extend(name: string, consumer: string | null, ids: readonly number[]): Promise<Settled & { deadlineMs: number }>
  /** Gives up on held ids: they go to the dead-letter stream at once (answered once committed there). */
  term(name: string, consumer: string | null, ids: readonly number[], reason?: string): Promise<Settled>
  /** A push consumer with `max` credit; `send` gets each delivery, `ended` is called if the group is deleted. */
  consume(name: string, consumer: string, max: number, send: (d: Claimed) => void, ended: () => void): Promise<PushHandle>
  /** Republishes dead letters of the group (those ids of dlq.{group}, or all retained) to their original streams. */
  replay(name: string, ids?: readonly number[]): Promise<ReplayResult>
  /** Releases push consumers' leases, ends long-polls and timers, waits for dead letters in flight. */
  stop(): Promise<void>
}
