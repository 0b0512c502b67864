/**
 * Generator worker process: holds subscribers for the orchestrator (bench/run.ts), which drives it over IPC.
 * Separate from the server and from the publisher so each side's CPU can be told apart.
 */
import { nodeTargets } from '../targets/index.ts'
import { Histogram } from './histogram.ts'
import { PollClient } from './poll-client.ts'
import { nowMs } from './payload.ts'
import type { Command, CollectReport, Kind, KindStats, OpenReport, StormReport, SubPlan } from './protocol.ts'
import { SseClient } from './sse-client.ts'
import { Sink, Subscriber } from './subscriber.ts'
import { WsClient } from './ws-client.ts'

type Client = SseClient | WsClient | PollClient
interface Entry { client: Client; plan: SubPlan }

let sink = new Sink()
let entries: Entry[] = []
let mark = { cpu: process.cpuUsage(), at: performance.now() }

// Connects in flight at once: a 1000-wide burst overflows the accept backlog and costs 1 s SYN retries.
const CONNECT_WINDOW = 200

async function open(cmd: Extract<Command, { op: 'open' }>): Promise<OpenReport> {
  const targets = nodeTargets(cmd.spec)
  const started = performance.now()
  let live = 0, next = 0
  const done = Promise.withResolvers<void>()
  const startNext = () => {
    while (next < cmd.subs.length && next - live < CONNECT_WINDOW) {
      const plan = cmd.subs[next++]
      let counted = false
      const onLive = () => {
        if (counted) return
        counted = true
        live++
        if (live === cmd.subs.length) done.resolve()
        else startNext()
      }
      const sub = new Subscriber(plan.kind, plan.streams, sink, plan.node ?? 0)
      const target = targets[plan.node ?? 0]
      const client = plan.kind === 'sse' ? new SseClient(target, sub, onLive)
        : plan.kind === 'ws' ? new WsClient(target, sub, onLive) : new PollClient(target, sub, onLive)
      entries.push({ client, plan })
      void client.open()
    }
  }
  if (cmd.subs.length === 0) done.resolve()
  startNext()
  await Promise.race([done.promise, Bun.sleep(cmd.timeoutMs)])
  const connectMs = new Histogram()
  for (const { client } of entries) if (!Number.isNaN(client.sub.connectMs)) connectMs.recordMs(client.sub.connectMs)
  return { connected: live, failed: cmd.subs.length - live, wallMs: performance.now() - started, connectMs: connectMs.toJSON() }
}

function isComplete(e: Entry, published: Record<number, number>): boolean {
  for (const s of e.plan.expect) {
    if ((e.client.sub.trackers.get(s)?.contiguous ?? 0) < (published[s] ?? 0)) return false
  }
  return true
}

async function collect(cmd: Extract<Command, { op: 'collect' }>): Promise<CollectReport> {
  const started = performance.now()
  while (performance.now() - started < cmd.settleMs && !entries.every((e) => isComplete(e, cmd.published))) {
    await Bun.sleep(20)
  }
  const drainMs = performance.now() - started
  const kinds: Partial<Record<Kind, KindStats>> = {}
  const catchUp: Partial<Record<Kind, Histogram>> = {}
  for (const { client, plan } of entries) {
    const sub = client.sub
    const k = kinds[plan.kind] ??= { subs: 0, live: 0, expected: 0, received: 0, lost: 0, duplicates: 0, outOfOrder: 0, reconnects: 0, requests: 0, errors: 0, caughtUp: 0, catchUpMs: { buckets: [], count: 0, maxUs: 0 } }
    k.subs++
    if (sub.isLive) k.live++
    k.reconnects += sub.reconnects
    k.requests += sub.requests
    k.outOfOrder += sub.outOfOrder
    k.errors += sub.errors
    if (!Number.isNaN(sub.catchUpMs)) { k.caughtUp++; (catchUp[plan.kind] ??= new Histogram()).recordMs(sub.catchUpMs) }
    for (const s of plan.expect) {
      const published = cmd.published[s] ?? 0
      const t = sub.trackers.get(s)
      k.expected += published
      k.received += Math.min(t?.received ?? 0, published)
      k.lost += t ? t.missing(published) : published
      k.duplicates += t?.duplicates ?? 0
    }
  }
  for (const [kind, h] of Object.entries(catchUp)) kinds[kind as Kind]!.catchUpMs = h!.toJSON()
  const cpu = process.cpuUsage(mark.cpu)
  return {
    kinds, latency: sink.latency.toJSON(), controls: sink.controls, worst: sink.worst,
    latencyByKind: Object.fromEntries(Object.entries(sink.byKind).map(([k, h]) => [k, h.toJSON()])),
    latencyByNode: Object.fromEntries(Object.entries(sink.byNode).map(([k, h]) => [k, h.toJSON()])),
    cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - mark.at, drainMs,
  }
}

let droppedAt = 0
let churnTimer: ReturnType<typeof setInterval> | undefined

function churn(everyMs: number, perTick: number): void {
  clearInterval(churnTimer)
  churnTimer = undefined
  const droppable = entries.filter((e) => e.plan.kind !== 'poll')
  if (everyMs <= 0 || droppable.length === 0) return
  let next = 0
  churnTimer = setInterval(() => {
    for (let i = 0; i < perTick; i++) droppable[next++ % droppable.length].client.drop()
  }, everyMs)
}

async function storm(timeoutMs: number): Promise<StormReport> {
  droppedAt = nowMs()
  for (const { client } of entries) client.drop()
  // Poll for the way back: each client reconnects on its own, like EventSource would.
  while (nowMs() - droppedAt < timeoutMs && !entries.every((e) => e.client.sub.isLive)) await Bun.sleep(10)
  return { reconnectedMs: nowMs() - droppedAt, live: entries.filter((e) => e.client.sub.isLive).length, subs: entries.length }
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case 'open': return open(cmd)
    case 'mark':
      mark = { cpu: process.cpuUsage(), at: performance.now() }
      return {}
    case 'storm': return storm(cmd.timeoutMs)
    case 'catch-up':
      for (const { client } of entries) client.sub.expectCatchUp(cmd.until, droppedAt)
      return {}
    case 'churn':
      churn(cmd.everyMs, cmd.perTick)
      return {}
    case 'collect': return collect(cmd)
    case 'close':
      churn(0, 0)
      for (const { client } of entries) client.close()
      entries = []
      sink = new Sink()
      await Bun.sleep(100)
      return {}
  }
}

process.on('message', async (msg: { id: number; cmd: Command }) => {
  try {
    process.send!({ id: msg.id, ok: true, value: await handle(msg.cmd) })
  } catch (err) {
    process.send!({ id: msg.id, ok: false, error: String((err as Error)?.stack ?? err) })
  }
})
