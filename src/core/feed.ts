import { type Event, sseChunk } from './event'
import type { Selector } from './filter'

/** The events of one group commit that match one feed; the SSE chunk is built once, on first use. */
export class Batch {
  private chunk: Uint8Array | undefined

  constructor(readonly events: readonly Event[]) {}

  get lastId(): number {
    return this.events[this.events.length - 1].id
  }

  get sse(): Uint8Array {
    return (this.chunk ??= sseChunk(this.events))
  }
}

/** A live receiver of events. The hub calls it synchronously after commit; it must never block. */
export interface Subscriber {
  deliver(batch: Batch): void
  /** Every stream this subscriber's selector names exactly has closed or been deleted. */
  end(): void
  /** How many connections this subscriber stands for (a WebSocket topic stands for all its sockets). */
  readonly connections: number
}

/** Subscribers that share one selector, so each batch is filtered and encoded once for all of them. */
export class Feed {
  readonly members = new Set<Subscriber>()

  constructor(readonly selector: Selector) {}

  /** Hands the batch to every member; one member's failure is reported and the others still get it. */
  deliver(events: readonly Event[], onError: (error: unknown) => void): void {
    const batch = new Batch(events)
    for (const member of this.members) {
      try {
        member.deliver(batch)
      } catch (error) {
        onError(error)
      }
    }
  }

  end(): void {
    for (const member of [...this.members]) member.end()
  }

  get connections(): number {
    let n = 0
    for (const m of this.members) n += m.connections
    return n
  }
}
