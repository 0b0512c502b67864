// The five charts over the last five minutes, drawn by uPlot from the /v1/stats samples.
import uPlot from './uplot.js'
import { h, rate } from './dom.js'

/** Samples shown: five minutes at one a second, as the server keeps them. */
const WINDOW = 300

const CHARTS = [
  { id: 'published', title: 'Events published', unit: '/s', series: [['events', 'accent']], values: (s) => [s.eventsPerSecond] },
  {
    id: 'deliveries',
    title: 'Deliveries by transport',
    unit: '/s',
    series: [['sse', 'sse'], ['ws', 'ws'], ['poll', 'poll']],
    values: (s) => [s.deliveriesPerSecond.sse, s.deliveriesPerSecond.ws, s.deliveriesPerSecond.poll],
  },
  { id: 'latency', title: 'Publish → commit p95', unit: ' ms', series: [['p95', 'violet']], values: (s) => [s.commitP95Ms] },
  {
    id: 'connections',
    title: 'Connections by transport',
    unit: '',
    series: [['sse', 'sse'], ['ws', 'ws'], ['poll', 'poll']],
    values: (s) => [s.connections.sse, s.connections.ws, s.connections.poll],
  },
  { id: 'slow', title: 'Slow-consumer disconnects', unit: '/s', series: [['disconnects', 'bad']], values: (s) => [s.slowDisconnectsPerSecond] },
]

/** The charts panel: `setHistory(samples)` replaces what is drawn, `push(sample)` adds one second. */
export class Charts {
  constructor(root) {
    this.data = CHARTS.map((c) => [[], ...c.series.map(() => [])])
    this.cards = CHARTS.map((spec) => this.card(spec))
    root.append(...this.cards.map((c) => c.el))
    root.hidden = false
    this.plots = []
    this.draw()
    new ResizeObserver(() => this.resize()).observe(root)
    // Colours come from the stylesheet: redraw when the system switches between light and dark.
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.draw())
  }

  setHistory(samples) {
    for (const d of this.data) for (const column of d) column.length = 0
    for (const s of samples.slice(-WINDOW)) this.append(s)
    this.refresh()
  }

  push(sample) {
    this.append(sample)
    this.refresh()
  }

  append(sample) {
    CHARTS.forEach((spec, i) => {
      const d = this.data[i]
      d[0].push(sample.timeMs / 1000)
      spec.values(sample).forEach((v, j) => d[j + 1].push(v))
      if (d[0].length > WINDOW) for (const column of d) column.shift()
    })
  }

  refresh() {
    this.plots.forEach((plot, i) => plot.setData(this.data[i]))
    for (const card of this.cards) card.show(null)
  }

  card(spec) {
    const values = spec.series.map(() => h('span', { class: 'legend-value' }, '–'))
    const legend = h(
      'div',
      { class: 'legend' },
      spec.series.map(([name, color], j) => h('span', { class: 'legend-item' }, h('i', { class: `dot dot-${color}` }), spec.series.length > 1 ? `${name} ` : null, values[j])),
    )
    const plot = h('div', { class: 'plot' })
    const el = h('article', { class: 'chart', 'data-chart': spec.id }, h('header', {}, h('h3', {}, spec.title), legend), plot)
    const i = CHARTS.indexOf(spec)
    // With the cursor over the chart the legend shows that second; otherwise the newest.
    const show = (idx) => {
      const d = this.data[i]
      const at = idx ?? d[0].length - 1
      values.forEach((v, j) => {
        const x = at >= 0 ? d[j + 1][at] : null
        v.textContent = x === null || x === undefined ? '–' : `${rate(x)}${spec.unit}`
      })
    }
    return { el, plot, spec, show }
  }

  draw() {
    for (const p of this.plots) p.destroy()
    const css = getComputedStyle(document.documentElement)
    const color = (name) => css.getPropertyValue(`--${name}`).trim()
    const axis = { stroke: color('muted'), grid: { stroke: color('grid'), width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif', gap: 4 }
    this.plots = this.cards.map((card, i) => {
      const { width, height } = sizeOf(card.plot)
      return new uPlot(
        {
          width,
          height,
          padding: [6, 6, 0, 0],
          legend: { show: false },
          cursor: { y: false, drag: { x: false, y: false }, points: { size: 6 } },
          scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] } },
          axes: [
            { ...axis, space: 70, size: 22, values: (u, splits) => splits.map(tick) },
            { ...axis, size: 44, values: (u, splits) => splits.map((v) => rate(v)) },
          ],
          series: [
            {},
            ...card.spec.series.map(([label, name]) => ({
              label,
              stroke: color(name),
              width: 1.5,
              fill: translucent(color(name), 0.12),
              points: { show: false },
            })),
          ],
          hooks: { setCursor: [(u) => card.show(u.cursor.idx)] },
        },
        this.data[i],
        card.plot,
      )
    })
  }

  resize() {
    this.plots.forEach((plot, i) => plot.setSize(sizeOf(this.cards[i].plot)))
  }
}

/** A time axis label: "14:03", or "14:03:20" between whole minutes. */
function tick(seconds) {
  const d = new Date(seconds * 1000)
  const pad = (n) => String(n).padStart(2, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${d.getSeconds() === 0 ? '' : `:${pad(d.getSeconds())}`}`
}

/** "#2f6fed" at `alpha` as rgba(): canvas fills take no CSS variables. */
function translucent(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16)
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

function sizeOf(el) {
  return { width: Math.max(160, el.clientWidth), height: 120 }
}
