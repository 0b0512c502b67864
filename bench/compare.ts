import { flagOf, table } from './report.ts'
import type { ScenarioResult } from './scenarios/result.ts'

/** What a row's server CPU is divided by: the unit of work that is that scenario's figure. */
export type Unit = 'delivery' | 'event' | 'round trip' | 'request'

/** One comparable figure of one target: a latency percentile and server CPU per unit of work. */
export interface Figure {
  row: string
  target: string
  unit: Unit
  latencyMs: number
  /** p95 for the generator's rows; autocannon reports p97.5. */
  percentile: 'p95' | 'p97.5'
  usPer: number
  flag: string
}

/** Every figure of a run, in run order: fan-out rows per delivery (or per round trip, or also per published event), http rows per event or request. */
export function figuresOf(results: ScenarioResult[]): Figure[] {
  const out: Figure[] = []
  for (const r of results) {
    if (r.deliveries && r.server && r.latencyMs) {
      const flag = flagOf(r)
      const base = { row: r.scenario, target: r.target, latencyMs: r.latencyMs.p95, percentile: 'p95' as const, flag }
      const onlyPolls = r.kinds?.poll && Object.keys(r.kinds).length === 1
      // Each long-poll answer brings the next request, so a poll-only row costs per round trip, not per event.
      if (onlyPolls) out.push({ ...base, unit: 'round trip', usPer: (r.server.cpuMs * 1000) / r.kinds!.poll!.requests })
      else out.push({ ...base, unit: 'delivery', usPer: r.server.usPerDelivery })
      if (r.scenario === 'streams-100') out.push({ ...base, unit: 'event', usPer: (r.server.cpuMs * 1000) / r.publish!.events })
    }
    for (const h of r.http ?? []) {
      out.push({ row: h.name, target: r.target, unit: httpUnitOf(h), latencyMs: h.p97_5Ms, percentile: 'p97.5', usPer: httpUsPer(h), flag: h.generatorCpuPct > 90 ? 'GEN-BOUND' : '' })
    }
  }
  return out
}

type HttpRow = NonNullable<ScenarioResult['http']>[number]

/** An autocannon row's unit: a published event, or a request (page reads). */
const httpUnitOf = (h: HttpRow): Unit => (h.name.startsWith('publish') ? 'event' : 'request')

/** An autocannon row's server CPU per unit of work, in µs. */
export const httpUsPer = (h: HttpRow): number => (h.serverCpuPct * 10_000) / (httpUnitOf(h) === 'event' ? h.eventsPerSec : h.reqPerSec)

/** Finds one target's figure for a row and unit. */
export const figure = (all: Figure[], row: string, unit: Unit, target: string): Figure | undefined =>
  all.find((f) => f.row === row && f.unit === unit && f.target === target)

export const ratio = (a: number | undefined, b: number | undefined): string =>
  a !== undefined && b !== undefined && b > 0 && a >= 0 ? `${(a / b).toFixed(2)}×` : '-'

/** `own` (ringcast, or a ringcast cluster) next to each peer for every row it ran: latency and server µs per unit, and own ÷ peer (below 1 is better for own). */
export function peersTable(results: ScenarioResult[], peers: string[], own = 'ringcast'): string {
  if (!peers.length) return ''
  const all = figuresOf(results)
  const names = [own, ...peers]
  const rows: string[][] = []
  const f = (n: number | undefined, digits: number) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits))
  for (const mine of all.filter((x) => x.target === own)) {
    const of = names.map((t) => figure(all, mine.row, mine.unit, t))
    if (of.slice(1).every((x) => !x)) continue
    rows.push([
      mine.row, mine.unit,
      of.map((x) => f(x?.latencyMs, 1)).join(' / ') + (mine.percentile === 'p95' ? '' : ` (${mine.percentile})`),
      ...peers.map((_, i) => ratio(mine.latencyMs, of[i + 1]?.latencyMs)),
      of.map((x) => f(x?.usPer, 1)).join(' / '),
      ...peers.map((_, i) => ratio(mine.usPer, of[i + 1]?.usPer)),
      [...new Set(of.map((x) => x?.flag).filter(Boolean))].join(' '),
    ])
  }
  const idle = names.map((t) => results.find((r) => r.scenario === 'idle' && r.target === t && r.server)?.server!.kbPerConnection)
  if (idle[0] !== undefined && idle.slice(1).some((x) => x !== undefined)) {
    rows.push(['idle', 'KB/connection', '', ...peers.map(() => ''), idle.map((x) => f(x, 1)).join(' / '), ...peers.map((_, i) => ratio(idle[0], idle[i + 1])), ''])
  }
  if (!rows.length) return ''
  const who = names.join(' / ')
  return table(['row', 'per', `p95 ms ${who}`, ...peers.map((p) => `÷ ${p}`), `srv µs per unit ${who}`, ...peers.map((p) => `÷ ${p}`), 'flag'], rows)
}
