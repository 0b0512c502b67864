import type { Check } from './checks.ts'
import { flagOf, signedMs } from './report.ts'
import type { ScenarioResult } from './scenarios/result.ts'
import { APPENDFSYNC } from './servers/cluster.ts'

// Issue 10's targets for ringcast nodes on one Redis. Printed as measured; they never change the run's exit status.
const SSE_SUBS = 1000
const SSE_P95_MS = 50
const BATCH_EVENTS_PER_SEC = 20_000
const CROSS_NODE_P50_MS = 3

/** The targets a run can judge, for each ringcast cluster in it (target `ringcast×N`). */
export function clusterGoals(results: ScenarioResult[]): Check[] {
  const out: Check[] = []
  const flag = (r: ScenarioResult) => (flagOf(r) ? ` [${flagOf(r)}]` : '')
  for (const cluster of new Set(results.filter((r) => r.target.startsWith('ringcast×')).map((r) => r.target))) {
    const rows = results.filter((r) => r.target === cluster && r.deliveries)
    const row = (name: string) => rows.find((r) => r.scenario === name)
    if (rows.length) {
      const lossy = rows.filter((r) => r.deliveries!.lost || r.deliveries!.outOfOrder)
      out.push({
        name: `${cluster}: loss 0 (and in order) in every fan-out row`,
        isPass: lossy.length === 0,
        measured: lossy.length ? lossy.map((r) => `${r.scenario}: lost ${r.deliveries!.lost} of ${r.deliveries!.expected}, ooo ${r.deliveries!.outOfOrder}`).join('; ') : `${rows.length} rows clean`,
      })
    }
    const sse = row('sse-100')
    if (sse) {
      out.push({
        name: `${cluster}: ${SSE_SUBS} SSE over the nodes at 100 events/s, loss 0, p95 < ${SSE_P95_MS} ms`,
        isPass: sse.subscribers!.connected >= SSE_SUBS && sse.deliveries!.lost === 0 && sse.latencyMs!.p95 < SSE_P95_MS,
        measured: `${sse.subscribers!.connected} connected, lost ${sse.deliveries!.lost}, p95 ${sse.latencyMs!.p95.toFixed(1)} ms, p99 ${sse.latencyMs!.p99.toFixed(1)} ms${flag(sse)}`,
      })
    }
    const batch = results.find((r) => r.target === cluster && r.http)?.http!.find((h) => h.name.startsWith('publish batch'))
    if (batch) {
      out.push({
        name: `${cluster}: durable publish through Redis (appendfsync ${APPENDFSYNC}) ≥ ${BATCH_EVENTS_PER_SEC} events/s in batches`,
        isPass: batch.eventsPerSec >= BATCH_EVENTS_PER_SEC && batch.non2xx + batch.errors === 0,
        measured: `${Math.round(batch.eventsPerSec)} events/s (${batch.name}, every node at once), ${batch.non2xx + batch.errors} failed, p99 ${batch.p99Ms.toFixed(0)} ms${batch.generatorCpuPct > 90 ? ' [GEN-BOUND]' : ''}`,
      })
    }
    const cross = row('cross-node')
    if (cross?.crossNode?.otherMs) {
      const { sameMs, otherMs } = cross.crossNode
      const adds = otherMs.p50 - sameMs.p50
      const single = results.find((r) => r.target === 'ringcast' && r.scenario === 'cross-node' && r.latencyMs)
      out.push({
        name: `${cluster}: cross-node delivery adds ≤ ${CROSS_NODE_P50_MS} ms at p50 over the same node`,
        isPass: adds <= CROSS_NODE_P50_MS,
        measured: `published on node a: p50 ${otherMs.p50.toFixed(1)} ms on the other nodes, ${sameMs.p50.toFixed(1)} ms on node a (${signedMs(adds)} ms)` +
          `${single ? `; one ringcast node without Redis: p50 ${single.latencyMs!.p50.toFixed(1)} ms` : ''}${flag(cross)}`,
      })
    }
  }
  return out
}
