/**
 * ringcast bench suite: starts the server(s), runs each scenario against each target in turn, prints the
 * tables and the PASS/FAIL of DESIGN.md's figures, and writes bench/results/*.json.
 * Exit: 0 ok, 1 a figure missed (never in --quick), 2 the harness itself failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from './args.ts'
import { type Check, checks } from './checks.ts'
import { clusterGoals } from './cluster-goals.ts'
import { Pool } from './gen/pool.ts'
import { machine } from './machine.ts'
import { peersTable } from './compare.ts'
import { goals } from './goals.ts'
import { extrasTable, fanoutTable } from './report.ts'
import type { Ctx } from './scenarios/context.ts'
import { scenarios } from './scenarios/index.ts'
import type { ScenarioResult } from './scenarios/result.ts'
import { warmUp } from './scenarios/warm-up.ts'
import { isRepeated, medianRun } from './repeat.ts'
import { hasRedis, startCluster } from './servers/cluster.ts'
import { startNchan } from './servers/nchan.ts'
import { startRawBun } from './servers/raw-bun.ts'
import { startRingcast } from './servers/ringcast.ts'
import type { Server } from './servers/server.ts'
import { nodeTargets, targetOf } from './targets/index.ts'

const args = (() => {
  try { return parseArgs(process.argv.slice(2)) } catch (err) { console.error((err as Error).message); process.exit(2) }
})()
const servers: Server[] = []
let pool: Pool | null = null
// CI's --quick keeps the cluster path from rotting with two nodes on a few short scenarios.
const QUICK_CLUSTER_SCENARIOS = ['sse-100', 'ws-100', 'storm', 'cross-node', 'http']

async function shutdown(): Promise<void> {
  pool?.stop()
  pool = null
  await Promise.all(servers.splice(0).map((s) => s.stop().catch(() => {})))
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void shutdown().then(() => process.exit(130)) })

async function main(): Promise<number> {
  const unknown = args.scenarios.filter((n) => !scenarios.some((s) => s.name === n))
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(' ')}`)
  const isQuickCluster = args.isQuick && !args.cluster && !args.target && !args.isPeerOnly
  if (isQuickCluster && !hasRedis()) console.log('bench: redis-server not installed, so --quick runs no cluster (apt-get install -y redis-server)')
  const nodes = args.cluster || (isQuickCluster && hasRedis() ? 2 : 0)

  if (args.target) {
    const { sse, publish, ws, publishBody, pid } = args.target
    servers.push({ spec: { kind: 'url', base: new URL(sse).origin, sse, publish, ws, publishBody }, pid, description: `external server at ${new URL(sse).origin}`, stop: async () => {} })
  } else {
    // In this order, so each cluster's rows come right after its single server's.
    const opts = { fromSource: args.fromSource }
    if (!args.isPeerOnly) servers.push(await startRingcast(opts))
    if (args.baseline) servers.push(await startRingcast({ ...opts, baseline: args.baseline }))
    if (!args.isPeerOnly && nodes) servers.push(await startCluster('ringcast', nodes, opts))
    if (args.peers.includes('nchan')) servers.push(await startNchan())
    if (args.cluster) servers.push(await startCluster('nchan', nodes, opts))
    if (args.peers.includes('raw-bun')) servers.push(await startRawBun())
    if (args.peers.includes('raw-bun-durable')) servers.push(await startRawBun(true))
  }
  const selected = args.scenarios.length ? scenarios.filter((s) => args.scenarios.includes(s.name))
    : scenarios.filter((s) => (args.isQuick || !s.isLong) && (nodes || !s.needsCluster))
  // Kept in the module too, so a failed run still stops the workers on its way out.
  const workers = (pool = new Pool(args.workers))
  const info = { machine: machine(), servers: servers.map((s) => s.description), mode: args.isQuick ? 'quick' : 'full', startedAt: new Date().toISOString() }
  console.log(`bench: ${info.mode} run on ${info.machine}`)
  for (const s of servers) {
    const where = s.processes ? `${s.spec.nodes!.join(' ')}; ${s.processes.map((p) => `${p.name} pid ${p.pid}`).join(', ')}` : `${s.spec.base}, pid ${s.pid || '?'}`
    console.log(`bench: target ${targetOf(s.spec).name}: ${s.description} (${where})`)
  }

  const ctxOf = (server: Server, round = 0): Ctx => ({ server, target: targetOf(server.spec), nodes: nodeTargets(server.spec), pool: workers, isQuick: args.isQuick, round })
  if (!args.isCold) {
    for (const server of servers) {
      const started = performance.now()
      await warmUp(ctxOf(server))
      console.log(`bench: warm-up × ${targetOf(server.spec).name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s (not measured)`)
    }
  }

  const results: ScenarioResult[] = []
  const everyRun: ScenarioResult[] = []
  // Alternate targets scenario by scenario (and round by round), so drift on a shared box hits both sides alike.
  for (const scenario of selected) {
    const runs = servers.map((): ScenarioResult[] => [])
    for (let round = 0; round < args.repeat; round++) {
      for (const [i, server] of servers.entries()) {
        if (isQuickCluster && server.processes && !args.scenarios.length && !QUICK_CLUSTER_SCENARIOS.includes(scenario.name)) continue
        if (round > 0 && !isRepeated(runs[i][0])) continue
        const started = performance.now()
        const r = await scenario.run(ctxOf(server, round))
        runs[i].push(r)
        const which = args.repeat > 1 && isRepeated(r) ? ` (run ${round + 1} of ${args.repeat})` : ''
        console.log(`bench: ${scenario.name} × ${r.target}${which}: ${r.skipped ? `skipped (${r.skipped})` : `done in ${((performance.now() - started) / 1000).toFixed(1)} s`}${r.notes.length ? ` — ${r.notes.join('; ')}` : ''}`)
      }
    }
    for (const r of runs.filter((r) => r.length > 0)) {
      const median = medianRun(r)
      results.push(median)
      if (r.length > 1) console.log(`bench: ${scenario.name} × ${median.target}: ${median.notes[median.notes.length - 1]}`)
    }
    everyRun.push(...runs.flat())
  }

  const fan = fanoutTable(results)
  if (fan) console.log(`\n${fan}\n`)
  const extras = extrasTable(results)
  if (extras) console.log(`${extras}\n`)
  const peers = peersTable(results, args.baseline ? [...args.peers, 'baseline'] : args.peers)
  if (peers) console.log(`${peers}\n`)
  // A cluster next to one ringcast node (what Redis costs) and to the Nchan cluster.
  const cluster = nodes ? peersTable(results, ['ringcast', `nchan×${nodes}`].filter((t) => results.some((r) => r.target === t)), `ringcast×${nodes}`) : ''
  if (cluster) console.log(`${cluster}\n`)
  const verdict = (c: Check) => `${args.isQuick ? 'INFO' : c.isPass ? 'PASS' : 'FAIL'}  ${c.name} — ${c.measured}`
  const verdicts = checks(results)
  for (const c of verdicts) console.log(verdict(c))
  const targets = goals(results)
  if (targets.length) console.log(`\ntargets from issue 11 (reported; they never change the exit status):\n${targets.map(verdict).join('\n')}`)
  const scaleOut = clusterGoals(results)
  if (scaleOut.length) console.log(`\ntargets from issue 10, scale-out (reported; they never change the exit status):\n${scaleOut.map(verdict).join('\n')}`)
  if (args.isQuick && verdicts.length + targets.length + scaleOut.length) console.log('(--quick: figures are not checked; run without --quick on an otherwise idle box)')

  const dir = new URL('./results/', import.meta.url).pathname
  mkdirSync(dir, { recursive: true })
  const file = `${dir}${info.startedAt.replace(/[:.]/g, '-')}-${info.mode}.json`
  const json = JSON.stringify({ ...info, args: process.argv.slice(2), results, ...(args.repeat > 1 && { everyRun }), checks: verdicts, targets, scaleOut }, null, 2)
  writeFileSync(file, json)
  writeFileSync(`${dir}latest.json`, json)
  console.log(`bench: results written to ${file}`)
  return !args.isQuick && verdicts.some((c) => !c.isPass) ? 1 : 0
}

let code = 2
try {
  code = await main()
} catch (err) {
  console.error(`bench: ${(err as Error).stack ?? err}`)
} finally {
  await shutdown()
}
process.exit(code)
