import type { ScenarioResult } from './scenarios/result.ts'
import { soakVerdict } from './scenarios/soak.ts'

/** DESIGN.md "Figures to reach", checked on ringcast's results. */
export interface Check { name: string; isPass: boolean; measured: string }

const FANOUT_P95_MS = 50
const RSS_1000_SSE_KB = 100 * 1024

export function checks(results: ScenarioResult[]): Check[] {
  const of = (name: string) => results.find((r) => r.target === 'ringcast' && r.scenario === name && r.deliveries)
  const out: Check[] = []
  const fanout = (label: string, name: string, kinds: string[]) => {
    const r = of(name)
    if (!r) return
    const counts = kinds.map((kind) => r.kinds?.[kind]?.subs ?? 0)
    out.push({
      name: `${label}: ${kinds.map((kind) => `1000+ ${kind.toUpperCase()}`).join(' + ')}, loss 0, p95 < ${FANOUT_P95_MS} ms`,
      isPass: counts.every((n) => n >= 1000) && r.subscribers!.connected === r.subscribers!.requested && r.deliveries!.lost === 0 && r.latencyMs!.p95 < FANOUT_P95_MS,
      measured: `${kinds.map((kind, i) => `${counts[i]} ${kind}`).join(' + ')}, connected ${r.subscribers!.connected}, lost ${r.deliveries!.lost}, p95 ${r.latencyMs!.p95.toFixed(1)} ms, p99 ${r.latencyMs!.p99.toFixed(1)} ms`,
    })
  }
  fanout('sse-100', 'sse-100', ['sse'])
  fanout('ws-100', 'ws-100', ['ws'])
  fanout('mixed-20', 'mixed-20', ['sse', 'ws'])
  const sse = of('sse-100')
  if (sse) {
    const rss = Math.max(sse.server!.rssConnectedKb, sse.server!.rssEndKb)
    out.push({
      name: 'server RSS < 100 MB with 1000 SSE connections',
      isPass: sse.subscribers!.connected >= 1000 && rss < RSS_1000_SSE_KB,
      measured: `${(rss / 1024).toFixed(1)} MB with ${sse.subscribers!.connected} SSE (${sse.server!.kbPerConnection.toFixed(1)} KB/connection)`,
    })
  }
  const storm = of('storm')
  if (storm) {
    out.push({
      name: 'reconnect storm: nothing lost, no duplicates, everyone caught up',
      isPass: storm.deliveries!.lost === 0 && storm.deliveries!.duplicates === 0 && storm.catchUp?.caughtUp === storm.catchUp?.subscribers,
      measured: `lost ${storm.deliveries!.lost}, dup ${storm.deliveries!.duplicates}, caught up ${storm.catchUp?.caughtUp ?? 0}/${storm.catchUp?.subscribers ?? '?'} (max ${storm.catchUp?.maxMs.toFixed(0) ?? '-'} ms)`,
    })
  }
  const soak = of('soak')
  if (soak) {
    out.push({
      name: 'soak: RSS and open fds grow < 10 % from minute 2 to minute 10, loss 0',
      ...(soak.soak ? soakVerdict(soak) : { isPass: false, measured: `no samples (${soak.notes.join('; ')})` }),
    })
  }
  const all = results.filter((r) => r.target === 'ringcast' && r.deliveries)
  if (all.length) {
    const lossy = all.filter((r) => r.deliveries!.lost || r.deliveries!.outOfOrder)
    out.push({
      name: 'every fan-out scenario: loss 0, in order',
      isPass: lossy.length === 0,
      measured: lossy.length ? lossy.map((r) => `${r.scenario}: lost ${r.deliveries!.lost}, ooo ${r.deliveries!.outOfOrder}`).join('; ') : `${all.length} scenarios clean`,
    })
  }
  return out
}
