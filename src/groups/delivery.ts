import type { Event } from '../core/event'
import type { DeliveryRecord } from './group-log'

/** A push consumer's share of the leases: its held ids are its used credit. */
export interface Holder {
  readonly held: Set<number>
}

/** One event the group has read and not yet settled, with its lease. */
export class Delivery implements DeliveryRecord {
  holder: Holder | null = null

  constructor(
    readonly event: Event,
    public consumer: string | null,
    public attempt: number,
    public deadlineMs: number,
    public reason: string | null = null,
    public isDead = false,
  ) {}

  get id(): number {
    return this.event.id
  }

  get stream(): string {
    return this.event.stream
  }
}

/** ids taken by an ack/nack/extend/term, and ids the consumer did not hold (reported, never taken). */
export interface Settled {
  ok: number[]
  notHeld: number[]
}

/** A delivery as the GroupLog stores it. */
export function recordOf(d: Delivery): DeliveryRecord {
  return { id: d.id, stream: d.stream, consumer: d.consumer, attempt: d.attempt, deadlineMs: d.deadlineMs, reason: d.reason, isDead: d.isDead }
}
