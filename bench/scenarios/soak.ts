import { readFileSync } from 'node:fs'
import { openFiles, runQueueWaitMs, usageOf } from '../servers/probe.ts'
import { type Ctx, sized } from './context.ts'
import { runFanout } from './fanout.ts'
import type { ScenarioResult, SoakSample } from './result.ts'
import { type Scenario, skipped, subsOn } from './scenario.ts'

// Modest on purpose (≈ 33 k deliveries/s): the soak looks for leaks, not for the saturation point.
const RATE = 50
const STEPS = 20
/** Samples that stand for minute 2, 6 and 10 of the full run (the same fractions of a --quick one). */
const MARKS = { start: 4, middle: 12, end: 20 }

/** Mixed load for 10 minutes with subscribers dropping and resuming: server RSS, open fds and event-loop lag over time. */
export const soak: Scenario = {
  name: 'soak',
  title: `soak: 300 SSE + 300 WS + 50 long-pollers, one stream, ${RATE} events/s, 10 subscribers dropped and resumed every 3 s, 10 min`,
  isLong: true,
  async run(ctx) {
    if (!ctx.target.caps.ws || !ctx.target.caps.poll) return skipped(soak, ctx, 'needs WebSocket and long-polling')
    if (ctx.server.processes) return skipped(soak, ctx, 'samples one process: run it against a single node')
    const durationMs = sized(ctx, 600_000, 20_000)
    const streams = ['b.soak']
    const subs = [
      ...subsOn('sse', sized(ctx, 300, 50), streams),
      ...subsOn('ws', sized(ctx, 300, 50), streams),
      ...subsOn('poll', sized(ctx, 50, 10), streams),
    ]
    const samples: SoakSample[] = []
    const result = await runFanout(ctx, {
      scenario: 'soak', title: soak.title, streams, subs, rate: RATE, durationMs,
      alongside: async (publishing) => {
        // Each worker drops its share: 10 subscribers every 3 s over the pool (2 a second in --quick).
        await ctx.pool.all({ op: 'churn', everyMs: sized(ctx, 3_000, 1_000), perTick: Math.ceil(sized(ctx, 10, 2) / ctx.pool.size) })
        await sample(ctx, durationMs, samples, publishing)
        await ctx.pool.all({ op: 'churn', everyMs: 0, perTick: 0 })
      },
    })
    if (samples.length <= MARKS.end) {
      result.notes.push(`soak: only ${samples.length} of ${STEPS + 1} samples taken`)
      return result
    }
    const at = (k: number) => samples[k]
    const growth = (a: number, b: number) => (100 * (b - a)) / a
    result.soak = {
      stepMs: durationMs / STEPS, samples,
      marks: { start: at(MARKS.start), middle: at(MARKS.middle), end: at(MARKS.end) },
      rssGrowthPct: growth(at(MARKS.start).rssKb, at(MARKS.end).rssKb),
      fdGrowthPct: growth(at(MARKS.start).fds, at(MARKS.end).fds),
      maxLagMs: Math.max(...samples.map((s) => s.lagMs)),
    }
    return result
  },
}

/** STEPS + 1 samples, evenly over the run from its start; stops early if publishing ends first. */
async function sample(ctx: Ctx, durationMs: number, out: SoakSample[], publishing: AbortSignal): Promise<void> {
  const { pid } = ctx.server
  if (!pid) return
  const t0 = performance.now()
  let last: { atMs: number; cpuMs: number; waitMs: number } | null = null
  for (let k = 0; k <= STEPS && !publishing.aborted; k++) {
    const wait = t0 + (k * durationMs) / STEPS - performance.now()
    if (wait > 0) await Bun.sleep(wait)
    const atMs = performance.now() - t0
    const { rssKb, cpuMs } = usageOf(pid)
    const waitMs = runQueueWaitMs(pid)
    const pct = (now: number, before: number | undefined) => (last ? (100 * (now - before!)) / (atMs - last.atMs) : NaN)
    out.push({
      atMs, rssKb, fds: openFiles(pid), lagMs: await lagMs(ctx), cpuPct: pct(cpuMs, last?.cpuMs), waitPct: pct(waitMs, last?.waitMs),
      load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    })
    last = { atMs, cpuMs, waitMs }
  }
}

/** ringcast's own event-loop lag (its /metrics gauge); NaN for servers that do not export it. */
async function lagMs(ctx: Ctx): Promise<number> {
  if (ctx.server.spec.kind !== 'ringcast') return NaN
  try {
    const text = await (await fetch(`${ctx.server.spec.base}/metrics`)).text()
    const value = /^ringcast_event_loop_lag_seconds (\S+)$/m.exec(text)?.[1]
    return value === undefined ? NaN : Number(value) * 1000
  } catch {
    return NaN
  }
}

/** Pass/fail of the soak: RSS and open fds grew < 10 % from the first mark to the last, and nothing was lost. */
export function soakVerdict(r: ScenarioResult): { isPass: boolean; measured: string } {
  const s = r.soak!
  const { start, middle, end } = s.marks
  const mb = (kb: number) => (kb / 1024).toFixed(1)
  const pct = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} %`
  const most = (pick: (m: SoakSample) => number) => Math.max(...s.samples.slice(1).map(pick))
  return {
    isPass: s.rssGrowthPct < 10 && s.fdGrowthPct < 10 && r.deliveries!.lost === 0,
    measured: `RSS ${mb(start.rssKb)} → ${mb(middle.rssKb)} → ${mb(end.rssKb)} MB (${pct(s.rssGrowthPct)}), ` +
      `fds ${start.fds} → ${middle.fds} → ${end.fds} (${pct(s.fdGrowthPct)}), event-loop lag ${start.lagMs.toFixed(0)} / ${middle.lagMs.toFixed(0)} / ${end.lagMs.toFixed(0)} ms (max ${s.maxLagMs.toFixed(0)}), ` +
      `lost ${r.deliveries!.lost}, ${r.deliveries!.reconnects} resumes; box: load up to ${most((m) => m.load1).toFixed(1)}, main thread waiting for a core up to ${most((m) => m.waitPct).toFixed(0)} % of an interval`,
  }
}
