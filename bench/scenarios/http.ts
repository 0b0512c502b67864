import { usageOf } from '../servers/probe.ts'
import { pidsOf, type Server } from '../servers/server.ts'
import type { HttpRequest, Target } from '../targets/target.ts'
import { sized } from './context.ts'
import type { ScenarioResult } from './result.ts'
import type { Scenario } from './scenario.ts'

const AUTOCANNON = new URL('../../node_modules/autocannon/autocannon.js', import.meta.url).pathname
const CONNECTIONS = 50
const BATCH = 100

type Row = NonNullable<ScenarioResult['http']>[number]

/** autocannon (under Node, its own process) against publish (single, batch of 100) and polling GETs; on a cluster, one per node at once. */
export const http: Scenario = {
  name: 'http',
  title: `autocannon, ${CONNECTIONS} connections: publish single / batch of ${BATCH} (durable acks), polling GET`,
  async run(ctx) {
    const { target, server, nodes } = ctx
    const seconds = sized(ctx, 10, 1)
    const data = '{"s":0,"q":1,"t":0,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
    const onEach = (request: (node: Target) => HttpRequest) => nodes.map(request)
    // Each --repeat round on streams of its own, named as fanout.ts names them, so every run starts as the first did (retention included).
    const stream = (name: string) => (ctx.round ? `r${ctx.round}.${name}` : name)
    const result: ScenarioResult = { scenario: 'http', title: http.title, target: target.name, notes: [], http: [] }
    const run = async (name: string, reqs: HttpRequest[], eventsPerRequest: number) => {
      const { row, parts } = await cannon(name, reqs, eventsPerRequest, seconds, server)
      result.http!.push(row)
      if (parts) result.notes.push(`${name}: CPU by process: ${parts}`)
    }
    await run('publish single', onEach((n) => n.publish(stream('b.http.single'), data)), 1)
    if (target.publishBatch) await run(`publish batch ${BATCH}`, onEach((n) => n.publishBatch!(stream('b.http.batch'), Array(BATCH).fill(data))), BATCH)
    if (target.readPage) {
      const fill = target.publishBatch!(stream('b.http.poll'), Array(BATCH).fill(data))
      await fetch(fill.url, { method: 'POST', headers: fill.headers, body: fill.body })
      await run(`poll GET page of ${BATCH}`, onEach((n) => ({ url: n.readPage!(stream('b.http.poll')), headers: {} })), 1)
    }
    if (nodes.length > 1) result.notes.push(`http: one autocannon per node at once, ${Math.round(CONNECTIONS / nodes.length)} connections each; rates are summed, each percentile is the slower node's`)
    for (const row of result.http!) if (row.non2xx || row.errors) result.notes.push(`${row.name}: ${row.non2xx} non-2xx, ${row.errors} errors`)
    return result
  },
}

/**
 * One autocannon per request, all at once, the connections split between them; the server's CPU over all its
 * processes, and for a cluster each process's share (`parts`).
 */
async function cannon(name: string, reqs: HttpRequest[], eventsPerRequest: number, seconds: number, server: Server): Promise<{ row: Row; parts: string }> {
  const pids = pidsOf(server)
  const cpu0 = pids.map((pid) => usageOf(pid).cpuMs)
  const t0 = performance.now()
  const runs = await Promise.all(reqs.map((req) => autocannon(name, req, Math.round(CONNECTIONS / reqs.length), seconds)))
  const wallMs = performance.now() - t0
  const cpu = pids.map((pid, i) => usageOf(pid).cpuMs - cpu0[i])
  const serverCpuMs = pids.length ? cpu.reduce((a, b) => a + b, 0) : NaN
  const parts = server.processes?.map((p, i) => `${p.name} ${((100 * cpu[i]) / wallMs).toFixed(0)} %`).join(', ') ?? ''
  // autocannon's JSON has percentiles, not a histogram to merge: with several nodes each is the slower node's.
  const slowest = (pick: (r: Cannon) => number) => Math.max(...runs.map(pick))
  const sum = (pick: (r: Cannon) => number) => runs.reduce((a, r) => a + pick(r), 0)
  const reqPerSec = sum((r) => r.requests.average)
  const row = {
    name, reqPerSec, eventsPerSec: reqPerSec * eventsPerRequest,
    p50Ms: slowest((r) => r.latency.p50), p97_5Ms: slowest((r) => r.latency.p97_5), p99Ms: slowest((r) => r.latency.p99), maxMs: slowest((r) => r.latency.max),
    non2xx: sum((r) => r.non2xx ?? 0), errors: sum((r) => (r.errors ?? 0) + (r.timeouts ?? 0)),
    serverCpuPct: (100 * serverCpuMs) / wallMs,
    // The busiest autocannon process: above 90 % of a core it, not the server, was the limit.
    generatorCpuPct: slowest((r) => (100 * r.cpuMs) / wallMs),
  }
  return { row, parts }
}

interface Cannon {
  requests: { average: number }
  latency: { p50: number; p97_5: number; p99: number; max: number }
  non2xx?: number
  errors?: number
  timeouts?: number
  cpuMs: number
}

async function autocannon(name: string, req: HttpRequest, connections: number, seconds: number): Promise<Cannon> {
  const args = ['-c', String(connections), '-d', String(seconds), '-j']
  for (const [k, v] of Object.entries(req.headers)) args.push('-H', `${k}=${v}`)
  if (req.body !== undefined) args.push('-m', 'POST', '-b', req.body)
  const proc = Bun.spawn(['node', AUTOCANNON, ...args, req.url], { stdout: 'pipe', stderr: 'pipe' })
  // autocannon's own CPU, sampled until it exits (its /proc entry goes with it).
  let cpuMs = 0
  const sampler = setInterval(() => { cpuMs = usageOf(proc.pid).cpuMs || cpuMs }, 100)
  const out = await new Response(proc.stdout).text()
  await proc.exited
  clearInterval(sampler)
  if (proc.exitCode !== 0) throw new Error(`autocannon failed on ${name}: ${await new Response(proc.stderr).text()}`)
  return { ...JSON.parse(out), cpuMs }
}
