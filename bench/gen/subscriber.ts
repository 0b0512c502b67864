import { Histogram } from './histogram.ts'
import { nowMs, orderKey, readStamp, type Stamp } from './payload.ts'
import { SeqTracker } from './seq-tracker.ts'

/** What all subscribers of one worker share: the latency histogram and counters of non-data frames. */
export class Sink {
  latency = new Histogram()
  byKind: Record<string, Histogram> = {}
  byNode: Record<number, Histogram> = {}
  /** The slowest delivery, to tell a stall at one stream's first event from general slowness. */
  worst = { ms: 0, kind: '', s: 0, q: 0 }
  controls: Record<string, number> = {}
  control(kind: string): void { this.controls[kind] = (this.controls[kind] ?? 0) + 1 }
}

/** One logical subscriber (any transport): resume position, per-stream seq checks, connect and catch-up times. */
export class Subscriber {
  trackers = new Map<number, SeqTracker>()
  lastId: string | null = null
  isLive = false
  reconnects = 0
  /** Requests answered (long-pollers: one per round trip). */
  requests = 0
  /** Deliveries whose server id was lower than the previous one's (DESIGN.md guarantee 2); only when ids are ordered. */
  outOfOrder = 0
  private lastKey = -Infinity
  errors = 0
  connectStartedAt = 0
  connectMs = NaN
  private catchUp: { startedAt: number; until: Record<number, number> } | null = null
  catchUpMs = NaN

  constructor(readonly kind: string, readonly streams: string[], readonly sink: Sink, readonly node = 0) {}

  startConnect(): void { this.connectStartedAt = nowMs() }

  ready(): void {
    if (!this.isLive && Number.isNaN(this.connectMs)) this.connectMs = nowMs() - this.connectStartedAt
    this.isLive = true
  }

  /** A data frame as text (SSE data, WS frame, poll item); id is the server's opaque resume id if it has one. */
  deliver(text: string, id: string | null): void {
    const stamp = readStamp(text)
    if (!stamp) { this.sink.control('frame-without-stamp'); return }
    this.deliverStamp(stamp, id)
  }

  deliverStamp(stamp: Stamp, id: string | null): void {
    const ms = nowMs() - stamp.t
    this.sink.latency.recordMs(ms)
    ;(this.sink.byKind[this.kind] ??= new Histogram()).recordMs(ms)
    ;(this.sink.byNode[this.node] ??= new Histogram()).recordMs(ms)
    if (ms > this.sink.worst.ms) this.sink.worst = { ms, kind: this.kind, s: stamp.s, q: stamp.q }
    let tracker = this.trackers.get(stamp.s)
    if (!tracker) this.trackers.set(stamp.s, tracker = new SeqTracker())
    tracker.record(stamp.q)
    if (id !== null) {
      this.lastId = id
      const key = orderKey(id)
      if (key < this.lastKey) this.outOfOrder++
      if (key === key) this.lastKey = key
    }
    if (this.catchUp) this.checkCatchUp()
  }

  /** Time, from startedAt, until every stream is gap-free up to `until[streamIndex]`. */
  expectCatchUp(until: Record<number, number>, startedAt: number): void {
    this.catchUp = { startedAt, until }
    this.catchUpMs = NaN
    this.checkCatchUp()
  }

  private checkCatchUp(): void {
    const c = this.catchUp!
    for (const [s, seq] of Object.entries(c.until)) {
      if ((this.trackers.get(Number(s))?.contiguous ?? 0) < seq) return
    }
    this.catchUpMs = nowMs() - c.startedAt
    this.catchUp = null
  }
}
