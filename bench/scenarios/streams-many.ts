import { freemem } from 'node:os'
import { payload } from '../gen/payload.ts'
import { usageOf } from '../servers/probe.ts'
import { type Ctx, sized } from './context.ts'
import type { ScenarioResult } from './result.ts'
import { type Scenario, skipped } from './scenario.ts'

const IN_FLIGHT = 64
// The scenario must never take the box down: creation stops at this server RSS, after this long, or on errors.
const RSS_CAP_KB = Math.min(4 * 2 ** 20, (freemem() / 1024) * 0.25)
const CREATE_LIMIT_MS = 15 * 60_000
const MAX_ERRORS = 1000
// ringcast evicts a ring 60 s after its stream's last event; its retention pass finds it within a second.
const RING_IDLE_MS = 60_000
const EVICTION_SLACK_MS = 60_000
// Bun's idle GC timer runs every second until the heap has not changed for 30 s, then every 30 s: an idle
// server is measured once it has been left alone (no scrapes) that long.
const SETTLE_MS = 40_000

/** N quiet streams of one event each: how long they take to create, then the idle server's CPU and RSS per stream. */
export const streamsMany: Scenario = {
  name: 'streams-many',
  title: '1 000 000 quiet streams (one event each): idle CPU and RSS per stream once their rings are evicted',
  isLong: true,
  async run(ctx) {
    const { server } = ctx
    if (!server.pid) return skipped(streamsMany, ctx, 'needs the server pid (--pid) to measure it')
    if (server.processes) return skipped(streamsMany, ctx, 'measures one process: run it against a single node')
    const n = sized(ctx, 1_000_000, 3_000)
    const result: ScenarioResult = { scenario: 'streams-many', title: streamsMany.title, target: ctx.target.name, notes: [] }
    const rssBeforeKb = usageOf(server.pid).rssKb
    const created = await create(ctx, n)
    if (created.stoppedBecause) result.notes.push(`creation stopped at ${created.streams} of ${n} streams: ${created.stoppedBecause}`)

    // Every server sits idle for the minute after which ringcast evicts rings (so each has settled alike), and ringcast
    // until its rings are all gone; --quick waits a second.
    const idleSince = performance.now()
    const minIdleMs = sized(ctx, RING_IDLE_MS, 1_000), maxIdleMs = sized(ctx, RING_IDLE_MS + EVICTION_SLACK_MS, 1_000)
    let rings = await ringsInMemory(ctx)
    for (let idleMs = 0; idleMs < minIdleMs || (rings !== null && rings > 0 && idleMs < maxIdleMs); idleMs = performance.now() - idleSince) {
      await Bun.sleep(Math.min(5_000, minIdleMs))
      rings = await ringsInMemory(ctx)
    }
    const isEvicted = rings === 0
    if (rings !== null && !isEvicted) result.notes.push(`${rings} rings still in memory ${((performance.now() - idleSince) / 1000).toFixed(0)} s after the last publish`)

    await Bun.sleep(sized(ctx, SETTLE_MS, 0))
    const idleMs = sized(ctx, 20_000, 5_000)
    const cpu0 = usageOf(server.pid).cpuMs, t0 = performance.now()
    await Bun.sleep(idleMs)
    const end = usageOf(server.pid)
    const idleCpuPct = (100 * (end.cpuMs - cpu0)) / (performance.now() - t0)
    result.many = {
      requested: n, streams: created.streams, errors: created.errors, createMs: created.ms,
      rings, isEvicted, rssBeforeKb, rssAfterKb: end.rssKb,
      bytesPerStream: created.streams ? ((end.rssKb - rssBeforeKb) * 1024) / created.streams : NaN,
      idleSeconds: idleMs / 1000, idleCpuPct,
    }
    return result
  },
}

/** One single-event publish per stream, IN_FLIGHT at a time, until n or a bound stops it. */
async function create(ctx: Ctx, n: number): Promise<{ streams: number; errors: number; ms: number; stoppedBecause: string }> {
  const { target, server } = ctx
  let next = 0, streams = 0, errors = 0, stoppedBecause = ''
  const t0 = performance.now()
  const check = () => {
    const rssKb = usageOf(server.pid).rssKb
    if (rssKb > RSS_CAP_KB) stoppedBecause = `server RSS ${(rssKb / 1024).toFixed(0)} MB passed the bench's cap of ${(RSS_CAP_KB / 1024).toFixed(0)} MB`
    else if (performance.now() - t0 > CREATE_LIMIT_MS) stoppedBecause = `${CREATE_LIMIT_MS / 60_000} minutes passed`
    else if (errors > MAX_ERRORS) stoppedBecause = `${errors} publishes failed`
  }
  const lane = async () => {
    while (!stoppedBecause && next < n) {
      const i = next++
      const req = target.publish(`b.many.${i}`, payload(i, 1, 0))
      try {
        const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body })
        await res.arrayBuffer()
        if (res.ok) streams++
        else errors++
      } catch {
        errors++
      }
      if (i % 2_000 === 0) check()
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  return { streams, errors, ms: performance.now() - t0, stoppedBecause }
}

/** ringcast's count of rings in memory (its /metrics gauge); null for servers without one. */
async function ringsInMemory(ctx: Ctx): Promise<number | null> {
  if (ctx.server.spec.kind !== 'ringcast') return null
  const text = await (await fetch(`${ctx.server.spec.base}/metrics`)).text()
  const value = /^ringcast_rings (\d+)$/m.exec(text)?.[1]
  return value === undefined ? null : Number(value)
}
