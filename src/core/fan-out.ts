import type { Event } from './event'
import { Feed, type Subscriber } from './feed'
import type { Selector } from './filter'
import { PatternIndex } from './pattern-index'

/**
 * Live subscribers by selector. Subscribers with the same selector share one feed, so an event is
 * matched and encoded once for all of them; an event finds its feeds through a token trie of every
 * feed's patterns, in O(its tokens + matches).
 */
export class FanOut {
  private readonly feeds = new Map<string, Feed>()
  private readonly index = new PatternIndex<Feed>()
  /** Feeds whose selectors name only plain streams, by stream: they end when those streams close. */
  private readonly exactIndex = new Map<string, Set<Feed>>()

  constructor(private readonly onError: (error: unknown) => void) {}

  get isEmpty(): boolean {
    return this.feeds.size === 0
  }

  subscribe(selector: Selector, subscriber: Subscriber): Feed {
    let feed = this.feeds.get(selector.key)
    if (!feed) {
      feed = new Feed(selector)
      this.feeds.set(selector.key, feed)
      for (const pattern of selector.allPatterns()) this.index.add(pattern, feed)
      if (selector.isExact) {
        for (const name of selector.exactStreams()) {
          let set = this.exactIndex.get(name)
          if (!set) this.exactIndex.set(name, (set = new Set()))
          set.add(feed)
        }
      }
    }
    feed.members.add(subscriber)
    return feed
  }

  unsubscribe(feed: Feed, subscriber: Subscriber): void {
    feed.members.delete(subscriber)
    if (feed.members.size > 0 || this.feeds.get(feed.selector.key) !== feed) return
    this.feeds.delete(feed.selector.key)
    for (const pattern of feed.selector.allPatterns()) this.index.delete(pattern, feed)
    if (feed.selector.isExact) {
      for (const name of feed.selector.exactStreams()) {
        const set = this.exactIndex.get(name)
        set?.delete(feed)
        if (set?.size === 0) this.exactIndex.delete(name)
      }
    }
  }

  /** Hands each feed the events of `events` (in id order) its selector matches, as one batch. */
  deliver(events: readonly Event[]): void {
    if (events.length === 0 || this.feeds.size === 0) return
    const perFeed = new Map<Feed, Event[]>()
    for (const event of events) {
      this.index.match(event.stream, (feed) => {
        const list = perFeed.get(feed)
        // A feed reached through several of its patterns must still get each event once.
        if (list?.[list.length - 1] === event || !feed.selector.matches(event)) return
        if (list) list.push(event)
        else perFeed.set(feed, [event])
      })
    }
    for (const [feed, matched] of perFeed) feed.deliver(matched, this.onError)
  }

  /** Ends the exact feeds naming `stream` for which `shouldEnd` holds. */
  endExact(stream: string, shouldEnd: (feed: Feed) => boolean): void {
    for (const feed of [...(this.exactIndex.get(stream) ?? [])]) if (shouldEnd(feed)) feed.end()
  }

  /** Connections whose selectors match the stream. */
  subscriberCount(stream: string): number {
    const feeds = new Set<Feed>()
    this.index.match(stream, (feed) => feeds.add(feed))
    let n = 0
    for (const feed of feeds) n += feed.connections
    return n
  }

  /** Whether some live subscriber's selector matches the stream. */
  isWatched(stream: string): boolean {
    let watched = false
    this.index.match(stream, (feed) => {
      if (feed.members.size > 0) watched = true
    })
    return watched
  }
}
