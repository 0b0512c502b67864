// Compression bench: 1000 subscribers of one stream receiving 1 KB events, uncompressed and
// compressed, over SSE (gzip) and WebSocket (permessage-deflate, --compression all), against the
// compiled binary on 127.0.0.1. Reports bytes on the wire per event (what subscribers read off
// their sockets), server CPU per delivery (/proc) and publish→receive latency; then, in this
// process, what compressing costs once per batch and what one compressor per connection would.
// usage: bun bench/compression.ts [--quick] [--source]
import type { Subprocess } from 'bun'
import { constants, createDeflateRaw } from 'node:zlib'
import { deflateBlocks } from '../src/transports/sse-gzip.ts'
import type { ClientCommand, ClientStats } from './compression-client.ts'
import { Histogram } from './gen/histogram.ts'
import { nowMs } from './gen/payload.ts'
import { machine } from './machine.ts'
import { usageOf } from './servers/probe.ts'
import { startRingcast } from './servers/ringcast.ts'

// The server inherits this process's environment (bench/servers/ringcast.ts): --compression all lets
// WebSockets negotiate permessage-deflate; clients that do not offer it, or gzip, get identity.
if (process.env.RINGCAST_COMPRESSION !== 'all') {
  const self = Bun.spawn([process.execPath, ...process.argv.slice(1)], { env: { ...process.env, RINGCAST_COMPRESSION: 'all' }, stdio: ['inherit', 'inherit', 'inherit'] })
  process.exit(await self.exited)
}

const isQuick = process.argv.includes('--quick')
const SUBSCRIBERS = isQuick ? 100 : 1000
const WORKERS = 2
const RATE = 20
const EVENTS = isQuick ? 60 : 200
/** Each row is measured this many times, the rows taking turns, so a busy moment on the box falls on all of them alike. */
const ROUNDS = isQuick ? 1 : 3
const STREAM = 'bench.compression'
/** gzip may add this much to identity's p95 and still pass: latency must not grow. */
const P95_SLACK_MS = 5
const CLIENT = new URL('./compression-client.ts', import.meta.url).pathname

const LINES = ['npm ci --prefer-offline --no-audit', 'added 812 packages, audited 813 packages in 14s', 'tsc -p tsconfig.build.json', 'warning: unused variable `retries` in src/queue/worker.rs:142', 'test result: ok. 128 passed; 0 failed; 2 ignored', 'uploading artifact build-x86_64-unknown-linux-gnu.tar.gz (24.1 MB)', 'cache hit: node_modules restored from key linux-node20-7f3a9c', 'PASS src/core/ring.test.ts (42 tests)']

/** A CI log event of about 1 KB, as a job runner would publish it; `s`, `q`, `t` let subscribers time it. */
function eventData(q: number): string {
  const log: string[] = []
  for (let k = 0; k < 10; k++) log.push(`${new Date(1_790_000_000_000 + q * 1000 + k * 37).toISOString()} ${LINES[(q * 3 + k) % LINES.length]} [${Math.random().toString(16).slice(2, 10)}]`)
  return JSON.stringify({ s: 0, q, t: nowMs(), job: 'build-x', run: 3, stage: 'test', status: 'running', log })
}

/** Generator workers, one request at a time each, answered in order. */
class Workers {
  private readonly procs: Subprocess[] = []
  private readonly waiting: ((value: unknown) => void)[][] = []

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      this.waiting.push([])
      this.procs.push(Bun.spawn([process.execPath, CLIENT], { stdio: ['ignore', 'inherit', 'inherit'], serialization: 'json', ipc: (message) => this.waiting[i].shift()?.(message) }))
    }
  }

  all<T>(command: ClientCommand | ((worker: number) => ClientCommand)): Promise<T[]> {
    return Promise.all(
      this.procs.map((proc, i) => {
        const { promise, resolve } = Promise.withResolvers<T>()
        this.waiting[i].push(resolve as (value: unknown) => void)
        proc.send(typeof command === 'function' ? command(i) : command)
        return promise
      }),
    )
  }

  stop(): void {
    for (const proc of this.procs.splice(0)) proc.kill()
  }
}

/** One configuration's sums over its rounds. */
interface Row {
  transport: 'sse' | 'ws'
  compress: boolean
  encoding: string
  events: number
  wireBytes: number
  cpuMs: number
  latency: Histogram
  lost: number
  errors: number
}

async function publishPaced(base: string, from: number, count: number): Promise<void> {
  const started = performance.now()
  const pending: Promise<Response>[] = []
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / RATE - performance.now()
    if (wait > 0) await Bun.sleep(wait)
    pending.push(fetch(`${base}/v1/streams/${STREAM}/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: `{"type":"log","data":${eventData(from + i)}}` }))
  }
  for (const response of await Promise.all(pending)) if (response.status !== 201) throw new Error(`publish answered ${response.status}`)
}

/** Polls the workers until `expected` events arrived in all (or the deadline passes); the stats of each. */
async function delivered(workers: Workers, expected: number, timeoutMs: number): Promise<ClientStats[]> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const stats = await workers.all<ClientStats>({ cmd: 'stats' })
    if (stats.reduce((n, s) => n + s.events, 0) >= expected || performance.now() > deadline) return stats
    await Bun.sleep(100)
  }
}

async function measure(row: Row): Promise<void> {
  const { transport, compress } = row
  const server = await startRingcast({ fromSource: process.argv.includes('--source') })
  const workers = new Workers(WORKERS)
  try {
    const port = Number(new URL(server.spec.base).port)
    await workers.all({ cmd: 'open', kind: transport, port, stream: STREAM, count: SUBSCRIBERS / WORKERS, compress })
    const warmup = RATE
    await publishPaced(server.spec.base, 0, warmup)
    await delivered(workers, warmup * SUBSCRIBERS, 10_000)
    await workers.all({ cmd: 'reset' })
    const before = usageOf(server.pid)
    await publishPaced(server.spec.base, warmup, EVENTS)
    const stats = await delivered(workers, EVENTS * SUBSCRIBERS, 20_000)
    const after = usageOf(server.pid)
    for (const s of stats) {
      row.latency.merge(s.latency)
      row.events += s.events
      row.wireBytes += s.wireBytes
      row.errors += s.errors
    }
    row.cpuMs += after.cpuMs - before.cpuMs
    row.lost += EVENTS * SUBSCRIBERS - stats.reduce((n, s) => n + s.events, 0)
  } finally {
    workers.stop()
    await server.stop()
  }
}

/** In this process: one batch compressed once for all its subscribers, alone and after the batch before it. */
function sharedFrames(): { aloneUs: number; aloneBytes: number; chainedUs: number; chainedBytes: number } {
  const frames = Array.from({ length: 2000 }, (_, i) => Buffer.from(`id: ${i + 1}\nevent: log\ndata: {"id":${i + 1},"stream":"${STREAM}","type":"log","data":${eventData(i)},"time":"${new Date().toISOString()}"}\n\n`))
  const time = (compress: (frame: Buffer, i: number) => Uint8Array) => {
    let bytes = 0
    const started = performance.now()
    frames.forEach((frame, i) => (bytes += compress(frame, i).byteLength))
    return { us: ((performance.now() - started) * 1000) / frames.length, bytes: bytes / frames.length }
  }
  const alone = time((frame) => deflateBlocks(frame))
  const chained = time((frame, i) => deflateBlocks(frame, i > 0 ? frames[i - 1] : undefined))
  return { aloneUs: alone.us, aloneBytes: alone.bytes, chainedUs: chained.us, chainedBytes: chained.bytes }
}

/** In this process: one deflate stream per connection (what a per-response compressor costs), 1000 of them. */
async function perConnection(): Promise<{ kbPerConnection: number; usPerDelivery: number; bytesPerEvent: number }> {
  Bun.gc(true)
  const rssBefore = process.memoryUsage().rss
  const streams = Array.from({ length: 1000 }, () => createDeflateRaw({ level: 6 }))
  let bytes = 0
  for (const s of streams) s.on('data', (chunk: Buffer) => (bytes += chunk.length))
  const cpuBefore = process.cpuUsage()
  const rounds = 20
  for (let q = 0; q < rounds; q++) {
    const frame = Buffer.from(`id: ${q + 1}\nevent: log\ndata: ${eventData(q)}\n\n`)
    await Promise.all(
      streams.map((s) => {
        s.write(frame)
        return new Promise<void>((resolve) => s.flush(constants.Z_SYNC_FLUSH, () => resolve()))
      }),
    )
  }
  const cpu = process.cpuUsage(cpuBefore)
  const rss = process.memoryUsage().rss
  for (const s of streams) s.destroy()
  return { kbPerConnection: (rss - rssBefore) / 1024 / streams.length, usPerDelivery: (cpu.user + cpu.system) / (rounds * streams.length), bytesPerEvent: bytes / (rounds * streams.length) }
}

const envelopeBytes = Buffer.byteLength(`{"id":1000,"stream":"${STREAM}","type":"log","data":${eventData(1000)},"time":"${new Date().toISOString()}"}`)
console.log(`compression bench: ${SUBSCRIBERS} subscribers of one stream, ${RATE} events/s × ${EVENTS}, ${ROUNDS} rounds, envelope ${envelopeBytes} B (CI log lines)`)
console.log(machine())
const rows: Row[] = (
  [
    ['sse', false, 'identity'],
    ['sse', true, 'gzip'],
    ['ws', false, 'identity'],
    ['ws', true, 'permessage-deflate'],
  ] as const
).map(([transport, compress, encoding]) => ({ transport, compress, encoding, events: 0, wireBytes: 0, cpuMs: 0, latency: new Histogram(), lost: 0, errors: 0 }))
for (let round = 0; round < ROUNDS; round++) for (const row of rows) await measure(row)
const bytesPerEvent = (r: Row) => r.wireBytes / r.events

console.log('\n| transport | encoding | bytes/event on the wire | server µs/delivery | p50 / p95 / p99 ms | lost |')
console.log('|---|---|---|---|---|---|')
for (const r of rows) {
  const q = (p: number) => r.latency.quantileMs(p).toFixed(1)
  console.log(`| ${r.transport} | ${r.encoding} | ${bytesPerEvent(r).toFixed(0)} | ${((r.cpuMs * 1000) / r.events).toFixed(2)} | ${q(0.5)} / ${q(0.95)} / ${q(0.99)} | ${r.lost}${r.errors ? ` (${r.errors} errors)` : ''} |`)
}
const shared = sharedFrames()
console.log(`\none batch compressed once, shared by its subscribers: ${shared.aloneUs.toFixed(1)} µs → ${shared.aloneBytes.toFixed(0)} B alone; ${shared.chainedUs.toFixed(1)} µs → ${shared.chainedBytes.toFixed(0)} B after the batch before it`)
const own = await perConnection()
console.log(`one deflate stream per connection (not used): ${own.kbPerConnection.toFixed(0)} KB per connection, ${own.usPerDelivery.toFixed(1)} µs CPU per delivery, ${own.bytesPerEvent.toFixed(0)} B per event`)

const [sse, gzip, ws, deflate] = rows
const checks = [
  { name: `SSE gzip p95 within ${P95_SLACK_MS} ms of identity`, isPass: gzip.latency.quantileMs(0.95) <= sse.latency.quantileMs(0.95) + P95_SLACK_MS, measured: `${gzip.latency.quantileMs(0.95).toFixed(1)} vs ${sse.latency.quantileMs(0.95).toFixed(1)} ms` },
  { name: 'SSE gzip at most half the bytes per event of identity', isPass: bytesPerEvent(gzip) <= bytesPerEvent(sse) / 2, measured: `${bytesPerEvent(gzip).toFixed(0)} vs ${bytesPerEvent(sse).toFixed(0)} B` },
  { name: 'WebSocket permessage-deflate at most 3/4 of the bytes per event of identity', isPass: bytesPerEvent(deflate) <= (bytesPerEvent(ws) * 3) / 4, measured: `${bytesPerEvent(deflate).toFixed(0)} vs ${bytesPerEvent(ws).toFixed(0)} B` },
  { name: 'every event delivered, no client error', isPass: rows.every((r) => r.lost === 0 && r.errors === 0), measured: rows.map((r) => `${r.transport} ${r.encoding}: lost ${r.lost}, errors ${r.errors}`).join('; ') },
]
console.log('')
for (const c of checks) console.log(`${c.isPass ? 'PASS' : 'FAIL'} ${c.name}: ${c.measured}`)
process.exit(checks.every((c) => c.isPass) || isQuick ? 0 : 1)
