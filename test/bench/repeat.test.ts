import { describe, expect, test } from 'bun:test'
import { costOf, medianRun } from '../../bench/repeat'
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

  test('only fan-out runs are repeated: skipped rows and autocannon rows have no cost', () => {
    expect(costOf(run(12, 3))).toBe(12)
    expect(costOf({ ...run(12, 3), skipped: 'no long-polling' })).toBeUndefined()
    expect(costOf({ scenario: 'http', title: 'http', target: 'ringcast', notes: [], http: [] })).toBeUndefined()
  })
})
