/**
 * Draws a bench run's fan-out rows as an SVG for the README: p95 latency and server CPU per delivery,
 * one bar per server, the rows the box did not saturate.
 * usage: bun bench/chart.ts [bench/results/latest.json] [docs/bench.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs'
import type { ScenarioResult } from './scenarios/result.ts'

const ROWS: [scenario: string, label: string][] = [
  ['sse-100', '1000 SSE, 100 ev/s'],
  ['ws-100', '1000 WebSocket, 100 ev/s'],
  ['mixed-20', 'SSE + WS + long-poll, 20 ev/s'],
  ['storm', 'reconnect storm, 1000 SSE'],
  ['pattern', '1000 pattern subscribers'],
  ['streams-100', '100 streams × 10 SSE'],
  ['poll-50', '200 long-pollers (per round trip)'],
]
const TARGETS: [target: string, label: string, color: string][] = [
  ['ringcast', 'ringcast', '#2563eb'],
  ['nchan', 'Nchan', '#f59e0b'],
  ['raw-bun', 'raw Bun.serve', '#9ca3af'],
  ['raw-bun-durable', 'raw Bun.serve + SQLite', '#4b5563'],
  ['baseline', 'ringcast, --baseline binary', '#93c5fd'],
]
const PANELS: [title: string, value: (r: ScenarioResult | undefined) => number | undefined][] = [
  ['p95 latency, ms', (r) => r?.latencyMs?.p95],
  ['server CPU µs per delivery', (r) => r?.server?.usPerDelivery],
]

const LABEL_W = 230
const PANEL_W = 330
const BAR_H = 9
const GAP = 10
const TOP = 58

const [input = 'bench/results/latest.json', output = 'docs/bench.svg'] = process.argv.slice(2)
const run = JSON.parse(readFileSync(input, 'utf8')) as { startedAt: string; machine: string; results: ScenarioResult[] }
const byKey = new Map(run.results.filter((r) => !r.skipped).map((r) => [`${r.scenario}/${r.target}`, r]))
const targets = TARGETS.filter(([t]) => run.results.some((r) => r.target === t && !r.skipped))
const rowH = targets.length * BAR_H + GAP
const height = TOP + ROWS.length * rowH + 44

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
const parts: string[] = []
const text = (x: number, y: number, body: string, attrs = '') => parts.push(`<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ''}>${esc(body)}</text>`)

text(8, 18, `ringcast bench, ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC: same run, servers alternating (shorter is better)`, 'font-weight="600"')
let legendX = LABEL_W
for (const [, label, color] of targets) {
  parts.push(`<rect x="${legendX}" y="28" width="10" height="10" fill="${color}"/>`)
  text(legendX + 14, 37, label)
  // About 7 px a character at this size: each entry as wide as its label, so long ones never overlap.
  legendX += 14 + label.length * 7 + 18
}
PANELS.forEach(([title, value], p) => {
  const x0 = LABEL_W + p * (PANEL_W + 40)
  const max = Math.max(...ROWS.flatMap(([s]) => targets.map(([t]) => value(byKey.get(`${s}/${t}`)) ?? 0)))
  text(x0, TOP - 6, title, 'font-weight="600"')
  ROWS.forEach(([scenario, label], row) => {
    const y0 = TOP + row * rowH
    if (p === 0) text(8, y0 + (targets.length * BAR_H) / 2 + 4, label)
    targets.forEach(([target, , color], i) => {
      const v = value(byKey.get(`${scenario}/${target}`))
      const y = y0 + i * BAR_H
      if (v === undefined) return
      const w = Math.max(1, (v / max) * (PANEL_W - 50))
      parts.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H - 1}" fill="${color}"/>`)
      text(x0 + w + 4, y + BAR_H - 1, v.toFixed(1), 'font-size="9"')
    })
  })
})
text(8, height - 22, `${run.machine}.`, 'font-size="10" fill="#555"')
text(8, height - 9, `Rows that saturate the box (1000 events/s; mixed at 50 and 100) are left out; the README's table has every row.`, 'font-size="10" fill="#555"')

const width = LABEL_W + 2 * PANEL_W + 60
writeFileSync(
  output,
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`,
)
console.log(`bench/chart: ${output} from ${input}`)
