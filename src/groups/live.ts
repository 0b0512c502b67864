import { RingcastError } from '../core/errors'
import { streamNameProblem } from '../core/pattern'
import type { Delivery, Holder } from './delivery'
import type { GroupConfig } from './group-log'

// The shapes the Groups manager works with: what a PUT may set and who waits for work.

/** What PUT /v1/groups/{group} may set; unset fields keep their value (or the default on create). */
export interface GroupSpec {
  streams?: string[]
  types?: string[] | null
  start?: 'earliest' | 'latest' | number
  ackTimeoutSec?: number
  maxDeliveries?: number
  ordering?: 'none' | 'stream'
}

/** A WebSocket consume subscription: credit is `max` minus what it holds. */
export interface PushConsumer extends Holder {
  readonly consumer: string
  readonly max: number
  /** Stops deliveries and releases what it holds for redelivery at once (attempt counted). */
  close(): void
}

export interface Waiter {
  consumer: string
  max: number
  done(deliveries: Delivery[]): void
}

export class Pusher implements PushConsumer {
  readonly held = new Set<number>()
  constructor(
    readonly consumer: string,
    readonly max: number,
    readonly send: (d: Delivery) => void,
    readonly ended: () => void,
    readonly onClose: (p: Pusher) => void,
  ) {}

  close(): void {
    this.onClose(this)
  }
}

export const DEFAULT_ACK_TIMEOUT_SEC = 30
export const DEFAULT_MAX_DELIVERIES = 5

/** The refusals of group operations, the same in both modes. */
export const refusals = {
  noSuchGroup: (name: string) => new RingcastError('not_found', `No group "${name}".`, 'Create it with PUT /v1/groups/{group}.'),
  needsStreams: () => new RingcastError('bad_request', 'A new group needs streams.', 'Give streams: ["jobs.*"].'),
  startAfterLast: (start: number, lastId: number) => new RingcastError('bad_request', `start ${start} is after the last id issued (${lastId}).`, 'Use earliest, latest or an id that was issued.'),
  stopping: () => new RingcastError('unavailable', 'The server is shutting down.', 'Retry on the restarted server.'),
}

/** Group names are stream-name tokens, and `dlq.{group}` must be a valid stream name. */
export function assertGroupName(name: string): void {
  const problem = streamNameProblem(name) ?? streamNameProblem(`dlq.${name}`)
  if (problem) throw new RingcastError('bad_name', `Invalid group name "${name.slice(0, 64)}": ${problem}.`, 'Use dot-separated tokens of [A-Za-z0-9_-], e.g. render-workers.')
}

/** A new group's config: the spec with defaults filled in. */
export function createdConfig(spec: GroupSpec & { streams: string[]; start: GroupConfig['start'] }, gapFloor: number): GroupConfig {
  return {
    streams: spec.streams,
    types: spec.types && spec.types.length > 0 ? spec.types : null,
    start: spec.start,
    ackTimeoutSec: spec.ackTimeoutSec ?? DEFAULT_ACK_TIMEOUT_SEC,
    maxDeliveries: spec.maxDeliveries ?? DEFAULT_MAX_DELIVERIES,
    ordering: spec.ordering ?? 'none',
    createdMs: Date.now(),
    gapFloor,
  }
}

/** An existing group's config with the fields a PUT gave; `start` is never changed after creation. */
export function updatedConfig(config: GroupConfig, spec: GroupSpec): GroupConfig {
  return {
    ...config,
    ...(spec.streams && { streams: spec.streams }),
    ...(spec.types !== undefined && { types: spec.types && spec.types.length > 0 ? spec.types : null }),
    ...(spec.ackTimeoutSec !== undefined && { ackTimeoutSec: spec.ackTimeoutSec }),
    ...(spec.maxDeliveries !== undefined && { maxDeliveries: spec.maxDeliveries }),
    ...(spec.ordering !== undefined && { ordering: spec.ordering }),
  }
}
