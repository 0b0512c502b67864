import { describe, expect, test } from 'bun:test'
import { costOf, isRepeated, medianRun } from '../../bench/repeat'
import type { ScenarioResult } from '../../bench/scenarios/result'

const run = (usPerDelivery: number, p95: number): ScenarioResult => ({
  scenario: 'poll-50', title: 'poll-50', target: 'ringcast', notes: ['first note'],
  deliveries: { expected: 1, received: 1, lost: 0, duplicates: 0, outOfOrder: 0, reconnects: 0, perSec: 1, drainMs: 0 },
  latencyMs: { p50: 1, p95, p99: p95, max: p95 },
  server: { rssBeforeKb: 0, rssConnectedKb: 0, rssEndKb: 0, kbPerConnection: 0, cpuMs: 1, cpuPct: 1, usPerDelivery },
})

describe('--repeat', () => {
  test('the median run by CPU per delivery is reported whole, with every run listed in run order', () => {
    const median = medianRun([run(30, 7), run(20, 9), run(25, 5)])
    expect(median.server!.usPerDelivery).toBe(25)
    expect(median.latencyMs!.p95).toBe(5)
    expect(median.notes[0]).toBe('first note')
    expect(median.notes.at(-1)).toBe('median of 3 runs by server µs/delivery (in run order: 30.0 µs, p95 7.0 ms; 20.0 µs, p95 9.0 ms; 25.0 µs, p95 5.0 ms)')
  })

  test('of an even count, the lower middle run; one run is itself', () => {
    expect(medianRun([run(40, 1), run(10, 1), run(30, 1), run(20, 1)]).server!.usPerDelivery).toBe(20)
    const one = run(12, 3)
    expect(medianRun([one])).toBe(one)
  })

  test('fan-out and autocannon runs are repeated; skipped and idle runs are not', () => {
    expect(costOf(run(12, 3))).toBe(12)
    expect(isRepeated(run(12, 3))).toBe(true)
    expect(isRepeated({ ...run(12, 3), skipped: 'no long-polling' })).toBe(false)
    expect(isRepeated(cannon([['publish single', 50, 10_000]]))).toBe(true)
    expect(isRepeated({ scenario: 'idle', title: 'idle', target: 'ringcast', notes: [] })).toBe(false)
  })

  test('autocannon rows are taken row by row, each from the run with its median CPU per unit, rate and percentiles with it', () => {
    const runs = [
      cannon([['publish single', 90, 20_000], ['poll GET page of 100', 90, 15_000]]),
      cannon([['publish single', 80, 10_000], ['poll GET page of 100', 90, 10_000]]),
      cannon([['publish single', 85, 25_000], ['poll GET page of 100', 90, 9_000]]),
    ].map((r, i) => ({ ...r, notes: [`run ${i + 1}`, ...r.http!.map((h) => `${h.name}: run ${i + 1}`)] }))
    const median = medianRun(runs)
    // µs per unit: single 45, 80, 34 → run 1, at 20 000/s; page 60, 90, 100 → run 2, at 10 000/s.
    expect(median.http!.map((h) => [h.name, h.eventsPerSec, h.p97_5Ms])).toEqual([['publish single', 20_000, 20_000 / 1000], ['poll GET page of 100', 10_000, 10_000 / 1000]])
    // A note about a row (a cluster's CPU by process) comes from the run the row came from; others from the first run.
    expect(median.notes.slice(0, -1)).toEqual(['run 1', 'publish single: run 1', 'poll GET page of 100: run 2'])
    expect(median.notes.at(-1)).toBe('each row the median of 3 runs by server µs per unit (in run order: publish single: 45.0 µs at 20000/s, 80.0 µs at 10000/s, 34.0 µs at 25000/s; poll GET page of 100: 60.0 µs at 15000/s, 90.0 µs at 10000/s, 100.0 µs at 9000/s)')
  })
})

/** An autocannon run with rows [name, server CPU %, events (= requests) per second]; p97.5 tells the rows apart. */
function cannon(rows: [string, number, number][]): ScenarioResult {
  return {
    scenario: 'http', title: 'http', target: 'ringcast', notes: [],
    http: rows.map(([name, serverCpuPct, perSec]) => ({ name, reqPerSec: perSec, eventsPerSec: perSec, p50Ms: 1, p97_5Ms: perSec / 1000, p99Ms: 1, maxMs: 1, non2xx: 0, errors: 0, serverCpuPct, generatorCpuPct: 50 })),
  }
}
