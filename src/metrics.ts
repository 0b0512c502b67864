import type { CommitStats } from './core/hub'

/** Plain counters and gauges, rendered as Prometheus text at scrape time; updating one is a field increment. */
export class Metrics {
  eventsPublished = 0
  publishRequests = 0
  duplicates = 0
  eventsPruned = 0
  deliveries = { sse: 0, ws: 0, poll: 0 }
  slowDisconnects = { sse: 0, ws: 0 }
  slowGaps = { sse: 0, ws: 0 }
  rejected = new Map<string, number>()
  rejectedTotal = 0
  commits = 0
  commitSecondsSum = 0
  private readonly commitBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
  private readonly commitCounts = new Array(this.commitBuckets.length).fill(0)

  committed(stats: CommitStats): void {
    this.eventsPublished += stats.events
    this.publishRequests += stats.publishes
    this.duplicates += stats.duplicates
    this.commits++
    const seconds = stats.latencyMs / 1000
    this.commitSecondsSum += seconds
    for (let i = 0; i < this.commitBuckets.length; i++) if (seconds <= this.commitBuckets[i]) this.commitCounts[i]++
  }

  /** The publish→commit histogram so far: cumulative counts per upper bound in seconds, and the total. */
  commitHistogram(): { bounds: readonly number[]; counts: number[]; total: number } {
    return { bounds: this.commitBuckets, counts: [...this.commitCounts], total: this.commits }
  }

  reject(code: string): void {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1)
    this.rejectedTotal++
  }

  /** A number that grows whenever any counter does (to tell a quiet second without building anything). */
  activity(): number {
    const d = this.deliveries
    return this.eventsPublished + this.publishRequests + this.duplicates + this.commits + d.sse + d.ws + d.poll + this.slowDisconnects.sse + this.slowDisconnects.ws + this.rejectedTotal
  }

  /** Prometheus text exposition; `gauges` are read at scrape time from their owners. */
  render(gauges: Record<string, { help: string; values: [Record<string, string> | null, number][]; type?: 'gauge' | 'counter' }>): string {
    const out: string[] = []
    const metric = (name: string, type: string, help: string, values: [Record<string, string> | null, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
      for (const [labels, value] of values) out.push(`${name}${labelText(labels)} ${value}`)
    }
    metric('ringcast_events_published_total', 'counter', 'Events committed to the log (dedup hits excluded).', [[null, this.eventsPublished]])
    metric('ringcast_publish_requests_total', 'counter', 'Publishes committed: HTTP requests, WebSocket frames, dead letters and their replays.', [[null, this.publishRequests]])
    metric('ringcast_duplicates_total', 'counter', 'Events not stored again because their idempotency key was seen.', [[null, this.duplicates]])
    metric('ringcast_events_pruned_total', 'counter', 'Events removed by retention.', [[null, this.eventsPruned]])
    metric('ringcast_events_delivered_total', 'counter', 'Events written to subscribers, by transport.', Object.entries(this.deliveries).map(([t, v]) => [{ transport: t }, v]))
    metric('ringcast_slow_consumer_disconnects_total', 'counter', 'Connections closed because their buffer passed --buffer-limit.', Object.entries(this.slowDisconnects).map(([t, v]) => [{ transport: t }, v]))
    metric('ringcast_slow_consumer_gaps_total', 'counter', 'Times a slow=drop subscriber skipped ahead and got a gap.', Object.entries(this.slowGaps).map(([t, v]) => [{ transport: t }, v]))
    metric('ringcast_requests_rejected_total', 'counter', 'Requests answered with a 4xx or 5xx problem, by code.', [...this.rejected].map(([code, v]) => [{ code }, v]))
    out.push('# HELP ringcast_commit_seconds Publish to commit: from the first publish of a group commit until it is committed and fanned out.', '# TYPE ringcast_commit_seconds histogram')
    for (let i = 0; i < this.commitBuckets.length; i++) out.push(`ringcast_commit_seconds_bucket{le="${this.commitBuckets[i]}"} ${this.commitCounts[i]}`)
    out.push(`ringcast_commit_seconds_bucket{le="+Inf"} ${this.commits}`, `ringcast_commit_seconds_sum ${this.commitSecondsSum}`, `ringcast_commit_seconds_count ${this.commits}`)
    for (const [name, g] of Object.entries(gauges)) metric(name, g.type ?? 'gauge', g.help, g.values)
    return `${out.join('\n')}\n`
  }
}

function labelText(labels: Record<string, string> | null): string {
  if (!labels) return ''
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
    .join(',')}}`
}
