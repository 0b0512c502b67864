import { expect, test } from 'bun:test'
import { quantileBetween, sampleOf, StatsFeed, type StatsReading, type StatsSample } from '../../src/http/stats-feed'

// The p95 of one interval comes from the difference of two cumulative histogram snapshots.

const bounds = [0.001, 0.005, 0.01, 0.05]
const histogram = (counts: number[], total: number) => ({ bounds, counts, total })
const empty = histogram([0, 0, 0, 0], 0)

const cases: [string, ReturnType<typeof histogram>, ReturnType<typeof histogram>, number | null][] = [
  ['nothing observed', empty, empty, null],
  ['all in the first bucket: interpolated from 0', empty, histogram([100, 100, 100, 100], 100), 0.00095],
  ['95th of 100 falls in the third bucket', empty, histogram([50, 90, 100, 100], 100), 0.005 + 0.005 * (5 / 10)],
  ['only the interval counts, not what came before', histogram([1000, 1000, 1000, 1000], 1000), histogram([1000, 1000, 1010, 1010], 1010), 0.005 + 0.005 * 0.95],
  ['past the last bound: the last bound', empty, histogram([0, 0, 0, 10], 100), 0.05],
]

for (const [name, before, now, expected] of cases) {
  test(`quantileBetween: ${name}`, () => {
    const got = quantileBetween(before, now, 0.95)
    if (expected === null) expect(got).toBeNull()
    else expect(got).toBeCloseTo(expected, 9)
  })
}

test('sampleOf turns counter differences into per-second rates and keeps gauges as they are', () => {
  const reading = (events: number, sse: number, slow: number): StatsReading => ({
    eventsPublished: events,
    deliveries: { sse, ws: 0, poll: 0 },
    slowDisconnects: slow,
    rejected: 0,
    commits: empty,
    connections: { sse: 3, ws: 1, poll: 0 },
    streams: 7,
    lastId: events,
  })
  const s = sampleOf(reading(100, 1000, 2), reading(300, 5000, 3), 2, 10_000, 4_000)
  expect(s).toMatchObject({ timeMs: 10_000, uptimeSeconds: 6, eventsPerSecond: 100, deliveriesPerSecond: { sse: 2000, ws: 0, poll: 0 }, slowDisconnectsPerSecond: 0.5, commitP95Ms: null, connections: { sse: 3, ws: 1, poll: 0 }, streams: 7, lastId: 300 })
})

test('quiet seconds with nobody watching are only counted, then read back as zero-rate samples in the history', async () => {
  let events = 0
  let isQuiet = true
  let ticks = 0
  const reading = (): StatsReading => ({ eventsPublished: events, deliveries: { sse: 0, ws: 0, poll: 0 }, slowDisconnects: 0, rejected: 0, commits: empty, connections: { sse: 2, ws: 0, poll: 0 }, streams: 5, lastId: events })
  const { promise: fiveTicks, resolve } = Promise.withResolvers<void>()
  const feed = new StatsFeed(reading, () => false, () => {}, 10, () => {
    if (++ticks === 5) resolve()
    return isQuiet
  })
  await fiveTicks
  const history = await historyOf(feed)
  expect(history.length).toBeGreaterThanOrEqual(5)
  expect(history.every((s) => s.eventsPerSecond === 0 && s.connections.sse === 2 && s.streams === 5)).toBe(true)
  // Times go on one interval apart, as if each second had been sampled.
  expect(history.slice(1).every((s, i) => s.timeMs - history[i].timeMs === 10)).toBe(true)
  isQuiet = false
  events = 50
  expect(feed.latest().timeMs).toBeGreaterThanOrEqual(history.at(-1)!.timeMs)
})

async function historyOf(feed: StatsFeed): Promise<StatsSample[]> {
  const abort = new AbortController()
  const reader = feed.open(abort.signal).getReader()
  const text = new TextDecoder().decode((await reader.read()).value)
  abort.abort()
  return JSON.parse(/event: history\ndata: (.*)\n/.exec(text)![1]) as StatsSample[]
}
