import type { KindStats } from '../gen/protocol.ts'

/** Latency percentiles of a set of deliveries, in ms. */
export interface Quantiles { p50: number; p95: number; p99: number; max: number }

/** One scenario run against one target: what report.ts prints and results/*.json keep. */
export interface ScenarioResult {
  scenario: string
  title: string
  target: string
  skipped?: string
  subscribers?: { requested: number; connected: number; connectWallMs: number; connectP50Ms: number; connectP99Ms: number }
  publish?: { requestedRate: number; events: number; errors: number; achievedRate: number; backlog: number; ackP50Ms: number; ackP99Ms: number }
  deliveries?: { expected: number; received: number; lost: number; duplicates: number; outOfOrder: number; reconnects: number; perSec: number; drainMs: number }
  latencyMs?: Quantiles
  latencyByKindMs?: Record<string, Quantiles>
  /** Per node the subscribers were on (index in the cluster; one entry for a single server). */
  latencyByNodeMs?: Record<string, Quantiles>
  /** cross-node: deliveries on the node that took the publishes, and on every other node (null for one server). */
  crossNode?: { sameMs: Quantiles; otherMs: Quantiles | null }
  /** The slowest delivery: transport, stream index and seq of its event. */
  worst?: { ms: number; kind: string; s: number; q: number }
  catchUp?: { subscribers: number; caughtUp: number; p50Ms: number; maxMs: number; reconnectedMs?: number }
  /** waitPct: share of the run the server's main thread was runnable but waiting for a core. */
  server?: { rssBeforeKb: number; rssConnectedKb: number; rssEndKb: number; kbPerConnection: number; cpuMs: number; cpuPct: number; usPerDelivery: number; waitPct?: number }
  /** othersCpuPct: CPU (% of one core) that processes outside the bench used meanwhile; isBoxBusy past OTHERS_BUSY_PCT (fanout.ts). */
  generator?: { workerCpuPct: number[]; publisherCpuPct: number; isBottleneck: boolean; isBoxSaturated: boolean; othersCpuPct?: number; isBoxBusy?: boolean }
  http?: { name: string; reqPerSec: number; eventsPerSec: number; p50Ms: number; p97_5Ms: number; p99Ms: number; maxMs: number; non2xx: number; errors: number; serverCpuPct: number; generatorCpuPct: number }[]
  kinds?: Partial<Record<string, KindStats>>
  controls?: Record<string, number>
  soak?: { stepMs: number; samples: SoakSample[]; marks: { start: SoakSample; middle: SoakSample; end: SoakSample }; rssGrowthPct: number; fdGrowthPct: number; maxLagMs: number }
  /** streams-many: what creating the streams took, then the idle server. `rings` is null where the server has none to count. */
  many?: {
    requested: number; streams: number; errors: number; createMs: number; rings: number | null; isEvicted: boolean
    rssBeforeKb: number; rssAfterKb: number; bytesPerStream: number; idleSeconds: number; idleCpuPct: number
  }
  notes: string[]
}

/**
 * One soak sample of the server: RSS, open fds, its event-loop lag (NaN if not exported); since the previous sample,
 * its CPU and how long its main thread waited for a core (% of the interval), and the box's 1-minute load average.
 */
export interface SoakSample { atMs: number; rssKb: number; fds: number; lagMs: number; cpuPct: number; waitPct: number; load1: number }
