import { httpUsPer } from './compare.ts'
import type { ScenarioResult } from './scenarios/result.ts'

/** A fan-out run's server CPU per delivery, the figure --repeat takes the median of; undefined for any other run. */
export function costOf(r: ScenarioResult): number | undefined {
  return r.skipped || !r.deliveries || !r.server ? undefined : r.server.usPerDelivery
}

/** Whether --repeat runs a scenario again: fan-out runs, and autocannon's (http); idle, soak and streams-many run once. */
export function isRepeated(r: ScenarioResult): boolean {
  return costOf(r) !== undefined || (!r.skipped && (r.http?.length ?? 0) > 0)
}

/**
 * Of one target's runs of a scenario, the one with the median server CPU per delivery (the lower of the two
 * middle ones for an even count), whole, so its p95 and CPU come from the same run; the others' go in its notes.
 * Autocannon runs are taken row by row instead (publish single, batches, page reads are separate measurements).
 */
export function medianRun(runs: ScenarioResult[]): ScenarioResult {
  if (runs.length === 1) return runs[0]
  if (costOf(runs[0]) === undefined) return medianHttp(runs)
  const median = middle(runs, (r) => costOf(r)!)
  const each = runs.map((r) => `${costOf(r)!.toFixed(1)} µs, p95 ${r.latencyMs?.p95.toFixed(1) ?? '-'} ms`).join('; ')
  return { ...median, notes: [...median.notes, `median of ${runs.length} runs by server µs/delivery (in run order: ${each})`] }
}

/**
 * Each autocannon row from the run with its median server CPU per unit; its rate, percentiles and the notes
 * about it (a cluster's CPU by process) come with it.
 */
function medianHttp(runs: ScenarioResult[]): ScenarioResult {
  const each: string[] = []
  const rowNotes: string[] = []
  const http = runs[0].http!.map((row) => {
    const found = runs.flatMap((run) => run.http!.filter((h) => h.name === row.name).map((h) => ({ h, run })))
    each.push(`${row.name}: ${found.map(({ h }) => `${httpUsPer(h).toFixed(1)} µs at ${Math.round(h.eventsPerSec)}/s`).join(', ')}`)
    const median = middle(found, ({ h }) => httpUsPer(h))
    rowNotes.push(...median.run.notes.filter((n) => n.startsWith(`${row.name}: `)))
    return median.h
  })
  const isAboutRow = (note: string) => http.some((h) => note.startsWith(`${h.name}: `))
  return { ...runs[0], http, notes: [...runs[0].notes.filter((n) => !isAboutRow(n)), ...rowNotes, `each row the median of ${runs.length} runs by server µs per unit (in run order: ${each.join('; ')})`] }
}

function middle<T>(items: T[], cost: (item: T) => number): T {
  return [...items].sort((a, b) => cost(a) - cost(b))[Math.floor((items.length - 1) / 2)]
}
