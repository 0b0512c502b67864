import type { Event } from './event'
import { Batch, type Feed, type Subscriber } from './feed'
import type { Filter } from './filter'
import type { ReadResult } from './reader'

/** What a transport does with a subscription's output; it only turns batches into bytes. */
export interface FollowSink {
  /** Events in id order, each once: replayed pages, then live batches. */
  deliver(batch: Batch): void
  /** Before anything replayed: retention removed events after the position. */
  gap(gap: { after: number; firstId: number }): void
  /** The position was never issued: delivery goes on after the current last id. */
  reset(reset: { after: number; lastId: number }): void
  /** Every stream the filter names exactly has closed or been deleted (after their last events). */
  end(): void
  /** Null when the next replay page may go out now, else when it may. */
  drained(): Promise<void> | null
  /**
   * The replay has caught up; called in the same turn live delivery starts. Answer false to take
   * live delivery over (WebSocket topics): the subscription then lets go of the hub.
   */
  live?(): boolean
  /** Something failed while replaying (the log could not be read); the subscription is closed. */
  failed?(error: unknown): void
}

/** What a subscription needs of the hub. */
export interface FollowHub {
  read(filter: Filter, afterId: number, limit: number): Promise<ReadResult>
  subscribe(filter: Filter, subscriber: Subscriber): Feed
  unsubscribe(feed: Feed, subscriber: Subscriber): void
  /** Whether every stream the filter names exactly is closed (a pattern filter never is). */
  isClosed(filter: Filter): boolean
}

/** Replay pages are this long, so a catch-up never holds the event loop for long. */
const PAGE = 500
/** Live events held while replaying; past it they are dropped and read from the log instead. */
const MAX_HELD = 10_000

/**
 * One subscription from a position: registers with the hub first, holds live batches while it
 * replays history page by page (the log may be asynchronous), skips what the replay already sent,
 * then goes live. Every event after the position, once, in id order, replay and live alike.
 */
export class Subscription implements Subscriber {
  private feed: Feed | undefined
  private held: Event[] | undefined = []
  private isReplaying = true
  private isEnding = false
  private isClosed = false
  private lastSent = 0

  constructor(
    private readonly hub: FollowHub,
    readonly filter: Filter,
    private readonly sink: FollowSink,
    /** How many connections it stands for in subscriber counts. */
    readonly connections: number,
  ) {}

  /** Starts from `position` (null: live only, from now on). */
  start(position: number | null): this {
    this.feed = this.hub.subscribe(this.filter, this)
    if (position === null) this.goLive()
    else this.replay(position).catch((error) => this.fail(error))
    return this
  }

  close(): void {
    if (this.isClosed) return
    this.isClosed = true
    this.held = undefined
    if (this.feed) this.hub.unsubscribe(this.feed, this)
  }

  deliver(batch: Batch): void {
    if (this.isClosed) return
    if (this.isReplaying) {
      // Held until the replay catches up; too many, and they are read from the log instead.
      if (this.held && this.held.length + batch.events.length <= MAX_HELD) this.held.push(...batch.events)
      else this.held = undefined
      return
    }
    if (batch.events[0].id > this.lastSent) return this.send(batch)
    const fresh = batch.events.filter((e) => e.id > this.lastSent)
    if (fresh.length > 0) this.send(new Batch(fresh))
  }

  end(): void {
    if (this.isClosed) return
    if (this.isReplaying) this.isEnding = true
    else this.finish()
  }

  private async replay(position: number): Promise<void> {
    let after = position
    this.lastSent = position
    for (let isFirst = true; ; isFirst = false) {
      const page = await this.hub.read(this.filter, after, PAGE)
      if (this.isClosed) return
      if (isFirst && page.reset) {
        this.sink.reset(page.reset)
        this.lastSent = page.reset.lastId
      }
      if (isFirst && page.gap) this.sink.gap(page.gap)
      const events = page.events.filter((e) => e.id > this.lastSent)
      if (events.length > 0) this.send(new Batch(events))
      after = page.next
      if (page.isDone) {
        // Dropped while replaying: everything dropped is in the log now, so read on until caught up again.
        if (this.held) break
        this.held = []
        continue
      }
      const drained = this.sink.drained()
      if (drained) await drained
      if (this.isClosed) return
    }
    this.goLive()
  }

  private goLive(): void {
    const held = this.held ?? []
    this.held = undefined
    this.isReplaying = false
    const fresh = held.length > 0 ? held.filter((e) => e.id > this.lastSent) : held
    if (fresh.length > 0) this.send(new Batch(fresh))
    if (this.isEnding || this.hub.isClosed(this.filter)) return this.finish()
    if (this.sink.live?.() === false) this.close()
  }

  private send(batch: Batch): void {
    this.lastSent = batch.lastId
    this.sink.deliver(batch)
  }

  private finish(): void {
    this.close()
    this.sink.end()
  }

  private fail(error: unknown): void {
    if (this.isClosed) return
    this.close()
    this.sink.failed?.(error)
  }
}
