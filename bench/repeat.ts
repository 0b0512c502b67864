import type { ScenarioResult } from './scenarios/result.ts'

/** A fan-out run's server CPU per delivery, the figure --repeat takes the median of; undefined for what is run once (http, idle, soak, streams-many). */
export function costOf(r: ScenarioResult): number | undefined {
  return r.skipped || !r.deliveries || !r.server ? undefined : r.server.usPerDelivery
}

/**
 * Of one target's runs of a scenario, the one with the median server CPU per delivery (the lower of the two
 * middle ones for an even count), whole, so its p95 and CPU come from the same run; the others' go in its notes.
 */
export function medianRun(runs: ScenarioResult[]): ScenarioResult {
  if (runs.length === 1) return runs[0]
  const sorted = [...runs].sort((a, b) => costOf(a)! - costOf(b)!)
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  const each = runs.map((r) => `${costOf(r)!.toFixed(1)} µs, p95 ${r.latencyMs?.p95.toFixed(1) ?? '-'} ms`).join('; ')
  return { ...median, notes: [...median.notes, `median of ${runs.length} runs by server µs/delivery (in run order: ${each})`] }
}
