/** What the feed reads from the server once a second: counters only grow, gauges are as they are now. */
export interface StatsReading {
  eventsPublished: number
  deliveries: { sse: number; ws: number; poll: number }
  slowDisconnects: number
  rejected: number
  commits: { bounds: readonly number[]; counts: number[]; total: number }
  connections: { sse: number; ws: number; poll: number }
  streams: number
  lastId: number
}

/** One second of the server, as `GET /v1/stats` sends it: rates over the last interval, gauges now. */
export interface StatsSample {
  timeMs: number
  uptimeSeconds: number
  eventsPerSecond: number
  deliveriesPerSecond: { sse: number; ws: number; poll: number }
  commitP95Ms: number | null
  connections: { sse: number; ws: number; poll: number }
  slowDisconnectsPerSecond: number
  rejectedPerSecond: number
  streams: number
  lastId: number
  rssBytes: number
}

/** Samples kept for a page that opens: five minutes at one a second. */
export const HISTORY = 300
/** Frames a watcher may leave unread before it is let go (it reconnects and gets the history again). */
const MAX_UNREAD = 30

const encoder = new TextEncoder()

/**
 * Samples the server once a second, keeps the last HISTORY samples and writes each one, encoded
 * once, to every watcher. Stops by itself (ending every watcher) once `isDraining` says so.
 * A second in which nothing moved and nobody watches is only counted, and written into the history
 * as a quiet sample when it is next read: an idle server builds nothing, so Bun's idle GC slows down.
 */
export class StatsFeed {
  private readonly history: string[] = []
  private readonly watchers = new Set<ReadableStreamDefaultController<Uint8Array>>()
  private readonly startedMs = Date.now()
  private previous: { reading: StatsReading; atMs: number }
  private readonly timer: ReturnType<typeof setInterval>
  private quietTicks = 0
  private quietFromMs = 0

  constructor(
    private readonly read: () => StatsReading,
    private readonly isDraining: () => boolean,
    private readonly onEnded: (watchers: number) => void = () => {},
    private readonly intervalMs = 1000,
    /** Whether nothing changed since the last call; must allocate nothing. */
    private readonly isQuiet: () => boolean = () => false,
  ) {
    this.previous = { reading: read(), atMs: Date.now() }
    this.timer = setInterval(() => this.tick(), intervalMs)
    // Sampling must never keep a process alive on its own.
    this.timer.unref()
  }

  get watching(): number {
    return this.watchers.size
  }

  /** The newest sample; in the first second, one over the time since start. */
  latest(): StatsSample {
    this.catchUp()
    const last = this.history[this.history.length - 1]
    if (last !== undefined) return JSON.parse(last) as StatsSample
    const atMs = Date.now()
    return sampleOf(this.previous.reading, this.read(), (atMs - this.previous.atMs) / 1000, atMs, this.startedMs)
  }

  /** An SSE body: `retry`, one `history` event (the samples kept, oldest first), then a `stats` event per sample. */
  open(signal: AbortSignal): ReadableStream<Uint8Array> {
    let watcher: ReadableStreamDefaultController<Uint8Array>
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        watcher = controller
        this.catchUp()
        controller.enqueue(encoder.encode(`retry: 2000\nevent: history\ndata: [${this.history.join(',')}]\n\n`))
        if (this.isDraining()) return controller.close()
        this.watchers.add(controller)
        signal.addEventListener('abort', () => this.end(controller), { once: true })
      },
      cancel: () => this.end(watcher),
    })
  }

  private tick(): void {
    if (this.isDraining()) {
      clearInterval(this.timer)
      for (const watcher of [...this.watchers]) this.end(watcher, true)
      return
    }
    const atMs = Date.now()
    if (this.watchers.size === 0 && this.isQuiet()) {
      if (this.quietTicks++ === 0) this.quietFromMs = atMs
      // Unchanged counters: the reading of this tick is the previous one.
      this.previous.atMs = atMs
      return
    }
    this.catchUp()
    const reading = this.read()
    const json = JSON.stringify(sampleOf(this.previous.reading, reading, (atMs - this.previous.atMs) / 1000, atMs, this.startedMs))
    this.previous = { reading, atMs }
    this.remember(json)
    const frame = encoder.encode(`event: stats\ndata: ${json}\n\n`)
    for (const watcher of this.watchers) {
      // A reader that stopped reading would grow this queue for ever.
      if ((watcher.desiredSize ?? 0) < -MAX_UNREAD) this.end(watcher, true)
      else watcher.enqueue(frame)
    }
  }

  /** Writes the quiet seconds counted so far into the history: zero rates, gauges as they were. */
  private catchUp(): void {
    const { reading } = this.previous
    for (let i = Math.max(0, this.quietTicks - HISTORY); i < this.quietTicks; i++) {
      this.remember(JSON.stringify(sampleOf(reading, reading, 1, this.quietFromMs + i * this.intervalMs, this.startedMs)))
    }
    this.quietTicks = 0
  }

  private remember(json: string): void {
    this.history.push(json)
    if (this.history.length > HISTORY) this.history.shift()
  }

  private end(watcher: ReadableStreamDefaultController<Uint8Array>, close = false): void {
    if (!this.watchers.delete(watcher)) return
    if (close) {
      try {
        watcher.close()
      } catch {
        // Already closed by the client going away.
      }
    }
    this.onEnded(this.watchers.size)
  }
}

/** The sample for the interval between two readings `seconds` apart. */
export function sampleOf(before: StatsReading, now: StatsReading, seconds: number, atMs: number, startedMs: number): StatsSample {
  const rate = (a: number, b: number) => (seconds > 0 ? Math.round(((b - a) / seconds) * 100) / 100 : 0)
  const p95 = quantileBetween(before.commits, now.commits, 0.95)
  return {
    timeMs: atMs,
    uptimeSeconds: Math.round((atMs - startedMs) / 1000),
    eventsPerSecond: rate(before.eventsPublished, now.eventsPublished),
    deliveriesPerSecond: {
      sse: rate(before.deliveries.sse, now.deliveries.sse),
      ws: rate(before.deliveries.ws, now.deliveries.ws),
      poll: rate(before.deliveries.poll, now.deliveries.poll),
    },
    commitP95Ms: p95 === null ? null : Math.round(p95 * 1_000_000) / 1000,
    connections: now.connections,
    slowDisconnectsPerSecond: rate(before.slowDisconnects, now.slowDisconnects),
    rejectedPerSecond: rate(before.rejected, now.rejected),
    streams: now.streams,
    lastId: now.lastId,
    rssBytes: process.memoryUsage.rss(),
  }
}

/**
 * The q-quantile of what a cumulative histogram observed between two snapshots, interpolated
 * linearly inside its bucket as Prometheus' histogram_quantile does; null when it observed nothing.
 */
export function quantileBetween(before: StatsReading['commits'], now: StatsReading['commits'], q: number): number | null {
  const total = now.total - before.total
  if (total <= 0) return null
  const rank = q * total
  let lower = 0
  let below = 0
  for (let i = 0; i < now.bounds.length; i++) {
    const upTo = now.counts[i] - before.counts[i]
    if (upTo >= rank) return lower + (now.bounds[i] - lower) * ((rank - below) / (upTo - below))
    lower = now.bounds[i]
    below = upTo
  }
  // Past the last finite bound: that bound is the best answer a histogram can give.
  return now.bounds[now.bounds.length - 1]
}
