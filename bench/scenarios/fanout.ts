import { Histogram } from '../gen/histogram.ts'
import type { CollectReport, OpenReport, StormReport, SubPlan } from '../gen/protocol.ts'
import { MAX_IN_FLIGHT, publish, type PublishReport } from '../gen/publisher.ts'
import { boxBusyMs, runQueueWaitMs, usageOf, type Usage } from '../servers/probe.ts'
import { pidsOf } from '../servers/server.ts'
import type { Ctx } from './context.ts'
import type { ScenarioResult } from './result.ts'

export interface FanoutPlan {
  scenario: string
  title: string
  subs: SubPlan[]
  /** Published streams; event data carries the stream's index in this list. */
  streams: string[]
  rate: number
  durationMs: number
  padBytes?: number
  /** Drop every subscriber this far into publishing; they resume with their last id. */
  stormAtMs?: number
  /** Runs while publishing (samplers, churn); `publishing` aborts when publishing ends, and it is awaited before collecting. */
  alongside?: (publishing: AbortSignal) => Promise<void>
  /** The cluster nodes that take the publishes (all by default); subscribers are spread over every node. */
  publishNodes?: number[]
}

// A worker using more than this share of a core was at or near its limit: the numbers are the generator's.
const BOTTLENECK = 0.9
// Other processes on the shared box used this much of a core (% of one) during the row: its latency is partly theirs.
const OTHERS_BUSY_PCT = 25

/** Connect the subscribers, publish at a paced rate, wait for every delivery, and measure both sides. */
export async function runFanout(ctx: Ctx, plan: FanoutPlan): Promise<ScenarioResult> {
  // A later run on the same server starts on fresh streams: subscribers start at the beginning of theirs (?after=0).
  if (ctx.round) plan = renamed(plan, `r${ctx.round}`)
  const { pool, server, target, nodes } = ctx
  const result: ScenarioResult = { scenario: plan.scenario, title: plan.title, target: target.name, notes: [] }
  const pids = pidsOf(server)
  const usage = (): Usage => (pids.length ? usageOf(pids) : { rssKb: NaN, cpuMs: NaN })
  const waits = () => pids.map(runQueueWaitMs)
  const rssBefore = usage().rssKb

  // Round-robin split, so each worker gets a share of every kind, and of every node.
  const shares: SubPlan[][] = Array.from({ length: pool.size }, () => [])
  plan.subs.forEach((s, i) => shares[i % pool.size].push({ ...s, node: Math.floor(i / pool.size) % nodes.length }))
  const opened = await pool.all<OpenReport>((w) => ({ op: 'open', spec: server.spec, subs: shares[w], timeoutMs: 60_000 }))
  const connectMs = new Histogram()
  for (const o of opened) connectMs.merge(o.connectMs)
  const connected = opened.reduce((a, o) => a + o.connected, 0)
  result.subscribers = {
    requested: plan.subs.length, connected, connectWallMs: Math.max(...opened.map((o) => o.wallMs)),
    connectP50Ms: connectMs.quantileMs(0.5), connectP99Ms: connectMs.quantileMs(0.99),
  }
  if (connected < plan.subs.length) result.notes.push(`${plan.subs.length - connected} subscribers never connected`)
  await Bun.sleep(300)
  const rssConnected = usage().rssKb

  await pool.all({ op: 'mark' })
  const parts0 = server.processes?.map((p) => usageOf(p.pid).cpuMs)
  const cpu0 = usage().cpuMs, wait0 = waits(), box0 = boxBusyMs(), pubCpu0 = process.cpuUsage(), t0 = performance.now()
  const published: Record<number, number> = {}
  let storm: Promise<StormReport[]> | null = null
  const stormTimer = plan.stormAtMs === undefined ? null : setTimeout(() => {
    // Catch-up target: everything published by the time the last subscriber was back.
    storm = pool.all<StormReport>({ op: 'storm', timeoutMs: 30_000 })
      .then(async (r) => { await pool.all({ op: 'catch-up', until: { ...published } }); return r })
  }, plan.stormAtMs)
  const publishing = new AbortController()
  const alongside = plan.alongside?.(publishing.signal)
  const publishOn = plan.publishNodes?.map((i) => nodes[i]) ?? nodes
  const pub: PublishReport = await publish(publishOn, { streams: plan.streams, rate: plan.rate, durationMs: plan.durationMs, padBytes: plan.padBytes ?? 64 }, published)
  publishing.abort()
  await alongside
  if (stormTimer) clearTimeout(stormTimer)
  const stormed = await (storm as Promise<StormReport[]> | null)
  const pubCpu = process.cpuUsage(pubCpu0)
  const pubWallMs = performance.now() - t0
  const collected = await pool.all<CollectReport>({ op: 'collect', published: pub.published, settleMs: ctx.isQuick ? 5_000 : 15_000 })
  const wallMs = performance.now() - t0
  const end = usage()
  // A cluster's row shows its most-waiting process.
  const waitPct = pids.length ? Math.max(...waits().map((w, i) => (100 * (w - wait0[i])) / wallMs)) : NaN
  if (server.processes) result.notes.push(`CPU by process: ${server.processes.map((p, i) => `${p.name} ${((100 * (usageOf(p.pid).cpuMs - parts0![i])) / wallMs).toFixed(0)} %`).join(', ')}`)
  const ownCpu = process.cpuUsage(pubCpu0)
  const benchCpuMs = (end.cpuMs - cpu0) + collected.reduce((a, c) => a + c.cpuMs, 0) + (ownCpu.user + ownCpu.system) / 1000
  const othersCpuPct = (100 * (boxBusyMs() - box0 - benchCpuMs)) / wallMs
  await pool.all({ op: 'close' })

  result.publish = {
    requestedRate: plan.rate, events: pub.total, errors: pub.errors, achievedRate: pub.achievedRate,
    backlog: pub.backlog, ackP50Ms: pub.ackMs.p50, ackP99Ms: pub.ackMs.p99,
  }
  if (pub.errors) result.notes.push(`${pub.errors} publish requests failed`)
  if (pub.backlog) result.notes.push(`publisher fell ${pub.backlog} events behind the requested rate (${MAX_IN_FLIGHT} requests in flight per stream)`)
  summarize(result, collected, wallMs, plan.publishNodes)
  if (stormed && result.catchUp) result.catchUp.reconnectedMs = Math.max(...stormed.map((s) => s.reconnectedMs))
  else if (stormed) result.notes.push('storm: no subscriber caught up')
  const cpuMs = end.cpuMs - cpu0
  const received = result.deliveries!.received
  result.server = {
    rssBeforeKb: rssBefore, rssConnectedKb: rssConnected, rssEndKb: end.rssKb,
    kbPerConnection: connected ? (rssConnected - rssBefore) / connected : NaN,
    cpuMs, cpuPct: (100 * cpuMs) / wallMs, usPerDelivery: received ? (cpuMs * 1000) / received : NaN, waitPct,
  }
  const workerCpuPct = collected.map((c) => (100 * c.cpuMs) / c.wallMs)
  const publisherCpuPct = (100 * (pubCpu.user + pubCpu.system) / 1000) / pubWallMs
  const isBottleneck = workerCpuPct.some((p) => p > BOTTLENECK * 100) || publisherCpuPct > BOTTLENECK * 100
  const totalPct = result.server.cpuPct + workerCpuPct.reduce((a, b) => a + b, 0) + publisherCpuPct * (pubWallMs / wallMs)
  result.generator = { workerCpuPct, publisherCpuPct, isBottleneck, isBoxSaturated: totalPct > 185, othersCpuPct, isBoxBusy: othersCpuPct > OTHERS_BUSY_PCT }
  if (isBottleneck) result.notes.push('GENERATOR-BOUND: a generator process used >90% of a core; these figures are a floor for the server')
  else if (result.generator.isBoxSaturated) result.notes.push('BOX SATURATED: server + generator used >1.85 of the 2 cores')
  else if (result.generator.isBoxBusy) result.notes.push(`BOX BUSY: other processes on the box used ${othersCpuPct.toFixed(0)} % of a core (the server's event loop waited for a core ${waitPct.toFixed(0)} % of the time)`)
  return result
}

/** The plan on streams (and patterns) under a first token of their own. */
function renamed(plan: FanoutPlan, token: string): FanoutPlan {
  const rename = (name: string) => `${token}.${name}`
  return { ...plan, streams: plan.streams.map(rename), subs: plan.subs.map((s) => ({ ...s, streams: s.streams.map(rename) })) }
}

const COUNTS = ['subs', 'live', 'expected', 'received', 'lost', 'duplicates', 'outOfOrder', 'reconnects', 'requests', 'errors', 'caughtUp'] as const

function summarize(result: ScenarioResult, collected: CollectReport[], wallMs: number, publishNodes: number[] | undefined): void {
  const latency = new Histogram()
  const kinds: ScenarioResult['kinds'] = {}
  const catchUp = new Histogram()
  const controls: Record<string, number> = {}
  const d = { expected: 0, received: 0, lost: 0, duplicates: 0, outOfOrder: 0, reconnects: 0, perSec: 0, drainMs: 0 }
  let subs = 0, caughtUp = 0
  const byKind: Record<string, Histogram> = {}
  const byNode: Record<string, Histogram> = {}
  result.worst = { ms: 0, kind: '', s: 0, q: 0 }
  for (const c of collected) {
    latency.merge(c.latency)
    for (const [kind, h] of Object.entries(c.latencyByKind)) (byKind[kind] ??= new Histogram()).merge(h)
    for (const [node, h] of Object.entries(c.latencyByNode)) (byNode[node] ??= new Histogram()).merge(h)
    if (c.worst.ms > result.worst.ms) result.worst = c.worst
    d.drainMs = Math.max(d.drainMs, c.drainMs)
    for (const [k, n] of Object.entries(c.controls)) controls[k] = (controls[k] ?? 0) + n
    for (const [kind, s] of Object.entries(c.kinds)) {
      d.expected += s!.expected; d.received += s!.received; d.lost += s!.lost
      d.duplicates += s!.duplicates; d.outOfOrder += s!.outOfOrder; d.reconnects += s!.reconnects
      subs += s!.subs; caughtUp += s!.caughtUp
      catchUp.merge(s!.catchUpMs)
      const k = kinds[kind]
      if (!k) kinds[kind] = { ...s!, catchUpMs: { buckets: [], count: 0, maxUs: 0 } }
      else for (const f of COUNTS) k[f] += s![f]
    }
  }
  d.perSec = d.received / (wallMs / 1000)
  result.deliveries = d
  result.kinds = kinds
  result.controls = controls
  const quantiles = (h: Histogram) => ({ p50: h.quantileMs(0.5), p95: h.quantileMs(0.95), p99: h.quantileMs(0.99), max: h.maxUs / 1000 })
  result.latencyMs = quantiles(latency)
  result.latencyByKindMs = Object.fromEntries(Object.entries(byKind).map(([k, h]) => [k, quantiles(h)]))
  result.latencyByNodeMs = Object.fromEntries(Object.entries(byNode).map(([k, h]) => [k, quantiles(h)]))
  if (publishNodes) {
    // Deliveries by subscribers on a node that took the publishes, and by those on the other nodes.
    const same = new Histogram(), other = new Histogram()
    for (const [node, h] of Object.entries(byNode)) (publishNodes.includes(Number(node)) ? same : other).merge(h.toJSON())
    result.crossNode = { sameMs: quantiles(same), otherMs: other.count ? quantiles(other) : null }
  }
  if (Object.keys(byKind).length > 1) {
    result.notes.push(`p95 by transport: ${Object.entries(result.latencyByKindMs).map(([k, q]) => `${k} ${q.p95.toFixed(1)} ms`).join(', ')}`)
  }
  if (catchUp.count) result.catchUp = { subscribers: subs, caughtUp, p50Ms: catchUp.quantileMs(0.5), maxMs: catchUp.maxUs / 1000 }
  if (d.lost) result.notes.push(`LOSS: ${d.lost} of ${d.expected} deliveries never arrived`)
  if (d.duplicates) result.notes.push(`${d.duplicates} duplicate deliveries`)
  if (d.outOfOrder) result.notes.push(`${d.outOfOrder} deliveries out of order`)
}
