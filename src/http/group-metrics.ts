import type { AppDeps } from './deps'

type Values = [Record<string, string> | null, number][]

/** Per-group lines for /metrics, read at scrape time. */
export async function groupMetrics(d: AppDeps) {
  const lag: Values = []
  const pending: Values = []
  const inFlight: Values = []
  const ackRate: Values = []
  const acks: Values = []
  const redeliveries: Values = []
  const deadLetters: Values = []
  const gaps: Values = []
  for (const s of await d.groups.list()) {
    const label = { group: s.name }
    lag.push([label, s.lag])
    pending.push([label, s.pending])
    inFlight.push([label, s.inFlight])
    ackRate.push([label, s.acksPerSecond])
    acks.push([label, s.counters.acks])
    redeliveries.push([label, s.counters.redeliveries])
    deadLetters.push([label, s.counters.deadLetters])
    gaps.push([label, s.counters.gaps])
  }
  return {
    ringcast_group_lag: { help: 'Matching events not yet delivered to any consumer of the group.', values: lag },
    ringcast_group_pending: { help: 'Events delivered and not yet acked or dead-lettered.', values: pending },
    ringcast_group_in_flight: { help: 'Deliveries held by a consumer right now.', values: inFlight },
    ringcast_group_acks_per_second: { help: 'Acks per second over the last 10 s.', values: ackRate },
    ringcast_group_acks_total: { help: 'Events acked.', values: acks, type: 'counter' as const },
    ringcast_group_redeliveries_total: { help: 'Deliveries with attempt > 1.', values: redeliveries, type: 'counter' as const },
    ringcast_group_dead_letters_total: { help: 'Events moved to dlq.{group}.', values: deadLetters, type: 'counter' as const },
    ringcast_group_gaps_total: { help: 'Times retention removed matching events before the group read them.', values: gaps, type: 'counter' as const },
  }
}
