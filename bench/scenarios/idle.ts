import { Histogram } from '../gen/histogram.ts'
import type { OpenReport } from '../gen/protocol.ts'
import { usageOf } from '../servers/probe.ts'
import { sized } from './context.ts'
import { type Scenario, skipped, subsOn } from './scenario.ts'
import type { ScenarioResult } from './result.ts'

// Every process here is capped at 20 000 open files (hard limit, not raisable in this container): the server
// needs one per connection plus its own, so ~19 800 is what one server process can hold on this box.
const FULL = 19_800
const HOLD_MS = 3_000

/** As many idle SSE connections as the box holds, and what each costs the server. */
export const idle: Scenario = {
  name: 'idle',
  title: `idle capacity: up to ${FULL} idle SSE connections on one stream`,
  async run(ctx) {
    const { pool, server } = ctx
    if (server.processes) return skipped(idle, ctx, 'a capacity per process: see the single-node row')
    const n = sized(ctx, FULL, 500)
    const result: ScenarioResult = { scenario: 'idle', title: idle.title, target: ctx.target.name, notes: [] }
    const rss = () => (server.pid ? usageOf(server.pid).rssKb : NaN)
    const before = rss()
    const subs = subsOn('sse', n, ['b.idle'])
    const shares = Array.from({ length: pool.size }, (_, w) => subs.filter((_, i) => i % pool.size === w))
    const opened = await pool.all<OpenReport>((w) => ({ op: 'open', spec: server.spec, subs: shares[w], timeoutMs: 60_000 }))
    await Bun.sleep(sized(ctx, HOLD_MS, 1_000))
    const after = rss()
    await pool.all({ op: 'close' })
    const connected = opened.reduce((a, o) => a + o.connected, 0)
    const connectMs = new Histogram()
    for (const o of opened) connectMs.merge(o.connectMs)
    result.subscribers = {
      requested: n, connected, connectWallMs: Math.max(...opened.map((o) => o.wallMs)),
      connectP50Ms: connectMs.quantileMs(0.5), connectP99Ms: connectMs.quantileMs(0.99),
    }
    result.server = { rssBeforeKb: before, rssConnectedKb: after, rssEndKb: after, kbPerConnection: (after - before) / connected, cpuMs: NaN, cpuPct: NaN, usPerDelivery: NaN }
    if (connected < n) result.notes.push(`reached ${connected} of ${n} connections`)
    return result
  },
}
