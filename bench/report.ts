import type { ScenarioResult, SoakSample } from './scenarios/result.ts'

const f = (n: number | undefined, digits = 1): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits))
const k = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '-' : n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)))
const mb = (kb: number | undefined): string => (kb === undefined || Number.isNaN(kb) ? '-' : (kb / 1024).toFixed(0))

/** A difference in ms with its sign, one decimal (never "-0.0"). */
export function signedMs(n: number): string {
  const text = n.toFixed(1)
  return text === '-0.0' || text === '0.0' ? '0.0' : n > 0 ? `+${text}` : text
}

/** Why a fan-out row's figures may not be the server's own: the generator, both, or other processes used the cores. */
export function flagOf(r: ScenarioResult): string {
  const g = r.generator
  return g?.isBottleneck ? 'GEN-BOUND' : g?.isBoxSaturated ? 'BOX-SAT' : g?.isBoxBusy ? 'BOX-BUSY' : ''
}

/** The fan-out table: one row per scenario × target. */
export function fanoutTable(results: ScenarioResult[]): string {
  const head = ['scenario', 'target', 'subs', 'conn s', 'ev/s', 'deliv/s', 'lost', 'dup', 'ooo', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms',
    'RSS MB 0/conn/end', 'KB/conn', 'srv CPU%', 'µs/deliv', 'srv wait%', 'gen CPU%', 'others CPU%', 'flag']
  const fan = results.filter((r) => r.deliveries || (r.skipped && r.scenario !== 'idle' && r.scenario !== 'http'))
  if (!fan.length) return ''
  const rows = fan.map((r) => r.skipped
    ? [r.scenario, r.target, `skipped: ${r.skipped}`]
    : [
      r.scenario, r.target, `${r.subscribers!.connected}/${r.subscribers!.requested}`, f(r.subscribers!.connectWallMs / 1000),
      `${r.publish!.requestedRate}→${f(r.publish!.achievedRate, 0)}`, k(r.deliveries!.perSec),
      String(r.deliveries!.lost), String(r.deliveries!.duplicates), String(r.deliveries!.outOfOrder),
      f(r.latencyMs!.p50), f(r.latencyMs!.p95), f(r.latencyMs!.p99), f(r.latencyMs!.max, 0),
      `${mb(r.server!.rssBeforeKb)}/${mb(r.server!.rssConnectedKb)}/${mb(r.server!.rssEndKb)}`, f(r.server!.kbPerConnection),
      f(r.server!.cpuPct, 0), f(r.server!.usPerDelivery), f(r.server!.waitPct, 0), r.generator!.workerCpuPct.map((p) => f(p, 0)).join('+') + `, pub ${f(r.generator!.publisherCpuPct, 0)}`, f(r.generator!.othersCpuPct, 0),
      flagOf(r) || (r.deliveries!.lost ? 'LOSS' : ''),
    ])
  return table(head, rows)
}

export function extrasTable(results: ScenarioResult[]): string {
  const out: string[] = []
  const storm = results.filter((r) => r.catchUp)
  if (storm.length) {
    out.push(table(['storm', 'target', 'caught up', 'all back ms', 'catch-up p50 ms', 'catch-up max ms', 'reconnects', 'lost', 'dup'],
      storm.map((r) => [r.scenario, r.target, `${r.catchUp!.caughtUp}/${r.catchUp!.subscribers}`, f(r.catchUp!.reconnectedMs, 0), f(r.catchUp!.p50Ms, 0), f(r.catchUp!.maxMs, 0),
        String(r.deliveries!.reconnects), String(r.deliveries!.lost), String(r.deliveries!.duplicates)])))
  }
  const cross = results.filter((r) => r.crossNode)
  if (cross.length) {
    const q = (m: { p50: number; p95: number } | null) => (m ? `${f(m.p50)} / ${f(m.p95)}` : '-')
    out.push(table(['cross-node (publish on the first node)', 'target', 'same node p50 / p95 ms', 'other nodes p50 / p95 ms', 'other − same p50 ms', 'lost', 'flag'],
      cross.map((r) => {
        const { sameMs, otherMs } = r.crossNode!
        return [r.scenario, r.target, q(sameMs), q(otherMs), otherMs ? signedMs(otherMs.p50 - sameMs.p50) : '-', String(r.deliveries!.lost), flagOf(r)]
      })))
  }
  const idle = results.filter((r) => r.scenario === 'idle' && r.subscribers)
  if (idle.length) {
    out.push(table(['idle', 'target', 'connections', 'connect s', 'RSS MB before/after', 'KB/conn'],
      idle.map((r) => [r.scenario, r.target, `${r.subscribers!.connected}/${r.subscribers!.requested}`, f(r.subscribers!.connectWallMs / 1000),
        `${mb(r.server!.rssBeforeKb)}/${mb(r.server!.rssConnectedKb)}`, f(r.server!.kbPerConnection)])))
  }
  const soaks = results.filter((r) => r.soak)
  if (soaks.length) {
    const marks = (r: ScenarioResult, pick: (m: SoakSample) => string) => [r.soak!.marks.start, r.soak!.marks.middle, r.soak!.marks.end].map(pick).join(' / ')
    out.push(table(['soak', 'target', 'marks at s (min 2/6/10)', 'RSS MB', 'open fds', 'lag ms', 'max lag ms', 'RSS growth', 'fd growth', 'resumes', 'lost', 'p95 ms'],
      soaks.map((r) => [r.scenario, r.target, marks(r, (m) => f(m.atMs / 1000, 0)), marks(r, (m) => f(m.rssKb / 1024)), marks(r, (m) => String(m.fds)),
        marks(r, (m) => f(m.lagMs, 0)), f(r.soak!.maxLagMs, 0), `${f(r.soak!.rssGrowthPct)} %`, `${f(r.soak!.fdGrowthPct)} %`,
        String(r.deliveries!.reconnects), String(r.deliveries!.lost), f(r.latencyMs!.p95)])))
    for (const r of soaks) {
      const series = (pick: (m: SoakSample) => string) => r.soak!.samples.map(pick).join(' ')
      out.push(`soak × ${r.target}, every ${f(r.soak!.stepMs / 1000, 0)} s:\n  RSS MB   ${series((m) => f(m.rssKb / 1024, 0))}\n  fds      ${series((m) => String(m.fds))}\n` +
        `  lag ms   ${series((m) => f(m.lagMs, 0))}\n  CPU %    ${series((m) => f(m.cpuPct, 0))}\n` +
        `  wait %   ${series((m) => f(m.waitPct, 0))}   (main thread runnable but waiting for a core)\n  load 1m  ${series((m) => f(m.load1))}`)
    }
  }
  const many = results.filter((r) => r.many)
  if (many.length) {
    out.push(table(['streams-many', 'target', 'streams', 'create s', 'created/s', 'errors', 'rings left', 'RSS MB before/after', 'bytes/stream', 'idle CPU %', 'over'],
      many.map((r) => {
        const m = r.many!
        return [r.scenario, r.target, `${m.streams}/${m.requested}`, f(m.createMs / 1000), k(m.streams / (m.createMs / 1000)), String(m.errors),
          m.rings === null ? 'n/a' : `${m.rings}${m.isEvicted ? ' (evicted)' : ''}`, `${mb(m.rssBeforeKb)}/${mb(m.rssAfterKb)}`, f(m.bytesPerStream, 0), f(m.idleCpuPct, 2), `${m.idleSeconds} s`]
      })))
  }
  const http = results.filter((r) => r.http)
  if (http.length) {
    out.push(table(['http (autocannon, 50 conns)', 'target', 'req/s', 'events/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'max ms', 'non-2xx', 'srv CPU%', 'gen CPU%', 'flag'],
      http.flatMap((r) => r.http!.map((h) => [h.name, r.target, k(h.reqPerSec), k(h.eventsPerSec), f(h.p50Ms), f(h.p97_5Ms), f(h.p99Ms), f(h.maxMs, 0),
        String(h.non2xx + h.errors), f(h.serverCpuPct, 0), f(h.generatorCpuPct, 0), h.generatorCpuPct > 90 ? 'GEN-BOUND' : '']))))
  }
  return out.join('\n\n')
}

/** A Markdown table, columns padded to their widest cell. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => line(r.length < head.length ? [...r, ...Array(head.length - r.length).fill('')] : r))].join('\n')
}
