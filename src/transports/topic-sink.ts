import type { Batch, Feed, Subscriber } from '../core/feed'

/** The part of a WebSocket client a topic needs. */
export interface TopicMember {
  bufferedAmount(): number
  overflow(): void
}

/**
 * All WebSockets whose subscriptions add up to one selector, fed by Bun's native topic publish:
 * one pre-encoded frame per event, written to every socket in native code.
 */
export class TopicSink implements Subscriber {
  readonly members = new Set<TopicMember>()
  feed: Feed | undefined
  /** Events published to the topic so far; a member's count is this minus the mark it joined at. */
  sent = 0
  lastEventAt: number | null = null

  constructor(
    readonly topic: string,
    private readonly publish: (topic: string, frame: string) => number,
    private readonly bufferLimit: number,
    private readonly onDelivered: (deliveries: number) => void,
  ) {}

  get connections(): number {
    return this.members.size
  }

  deliver(batch: Batch): void {
    let isBackpressured = false
    for (const event of batch.events) if (this.publish(this.topic, event.ws) <= 0) isBackpressured = true
    this.sent += batch.events.length
    this.lastEventAt = Date.now()
    this.onDelivered(batch.events.length * this.members.size)
    // Only when some socket is behind do we look for the ones past their limit.
    if (isBackpressured) for (const m of [...this.members]) if (m.bufferedAmount() > this.bufferLimit) m.overflow()
  }

  /** Per-subscription ends are sent by the WebSocket transport itself. */
  end(): void {}
}
