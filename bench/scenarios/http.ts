import { usageOf } from '../servers/probe.ts'
import type { HttpRequest } from '../targets/target.ts'
import { sized } from './context.ts'
import type { ScenarioResult } from './result.ts'
import type { Scenario } from './scenario.ts'

const AUTOCANNON = new URL('../../node_modules/autocannon/autocannon.js', import.meta.url).pathname
const CONNECTIONS = 50
const BATCH = 100

type Row = NonNullable<ScenarioResult['http']>[number]

/** autocannon (under Node, its own process) against publish (single, batch of 100) and polling GETs. */
export const http: Scenario = {
  name: 'http',
  title: `autocannon, ${CONNECTIONS} connections: publish single / batch of ${BATCH} (durable acks), polling GET`,
  async run(ctx) {
    const { target, server } = ctx
    const seconds = sized(ctx, 10, 1)
    const data = '{"s":0,"q":1,"t":0,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
    const result: ScenarioResult = { scenario: 'http', title: http.title, target: target.name, notes: [], http: [] }
    result.http!.push(await cannon('publish single', target.publish('b.http.single', data), 1, seconds, server.pid))
    if (target.publishBatch) {
      result.http!.push(await cannon(`publish batch ${BATCH}`, target.publishBatch('b.http.batch', Array(BATCH).fill(data)), BATCH, seconds, server.pid))
    }
    if (target.readPage) {
      const fill = target.publishBatch!('b.http.poll', Array(BATCH).fill(data))
      await fetch(fill.url, { method: 'POST', headers: fill.headers, body: fill.body })
      result.http!.push(await cannon(`poll GET page of ${BATCH}`, { url: target.readPage('b.http.poll'), headers: {} }, 1, seconds, server.pid))
    }
    for (const row of result.http!) if (row.non2xx || row.errors) result.notes.push(`${row.name}: ${row.non2xx} non-2xx, ${row.errors} errors`)
    return result
  },
}

async function cannon(name: string, req: HttpRequest, eventsPerRequest: number, seconds: number, serverPid: number): Promise<Row> {
  const args = ['-c', String(CONNECTIONS), '-d', String(seconds), '-j']
  for (const [k, v] of Object.entries(req.headers)) args.push('-H', `${k}=${v}`)
  if (req.body !== undefined) args.push('-m', 'POST', '-b', req.body)
  const cpu0 = serverPid ? usageOf(serverPid).cpuMs : NaN
  const t0 = performance.now()
  const proc = Bun.spawn(['node', AUTOCANNON, ...args, req.url], { stdout: 'pipe', stderr: 'pipe' })
  // autocannon's own CPU, sampled until it exits (its /proc entry goes with it).
  let genCpuMs = 0
  const sampler = setInterval(() => { genCpuMs = usageOf(proc.pid).cpuMs || genCpuMs }, 100)
  const out = await new Response(proc.stdout).text()
  await proc.exited
  clearInterval(sampler)
  const wallMs = performance.now() - t0
  const serverCpuMs = serverPid ? usageOf(serverPid).cpuMs - cpu0 : NaN
  if (proc.exitCode !== 0) throw new Error(`autocannon failed on ${name}: ${await new Response(proc.stderr).text()}`)
  const r = JSON.parse(out)
  return {
    name, reqPerSec: r.requests.average, eventsPerSec: r.requests.average * eventsPerRequest,
    p50Ms: r.latency.p50, p97_5Ms: r.latency.p97_5, p99Ms: r.latency.p99, maxMs: r.latency.max,
    non2xx: r.non2xx ?? 0, errors: (r.errors ?? 0) + (r.timeouts ?? 0),
    serverCpuPct: (100 * serverCpuMs) / wallMs, generatorCpuPct: (100 * genCpuMs) / wallMs,
  }
}
