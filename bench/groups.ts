// Consumer-group bench: 4 consumers drain a preloaded backlog (claim+ack throughput), then
// publish→first-delivery latency with consumers waiting (pull long-poll and WebSocket push), then
// claim and ack latency with 100 000 leases pending (claimed, not acked) against none.
// usage: bun bench/groups.ts [--quick] [--source] [--redis]   (--redis: the node keeps groups in a redis-server of its own)
import { TestRedis } from '../test/helpers/redis-server.ts'
import { Histogram } from './gen/histogram.ts'
import { startRingcast } from './servers/ringcast.ts'

const isQuick = process.argv.includes('--quick')
const EVENTS = isQuick ? 10_000 : 100_000
const LIVE_EVENTS = isQuick ? 1_000 : 5_000
const CONSUMERS = 4
const MAX = 100
const LEASES = isQuick ? 10_000 : 100_000
const PROBES = isQuick ? 100 : 500
const PROBE_MAX = 10

// AOF fsynced every second, as a production Redis behind ringcast would run.
const redis = process.argv.includes('--redis') ? await TestRedis.start({ appendfsync: 'everysec' }) : undefined
const server = await startRingcast({ fromSource: process.argv.includes('--source'), redis: redis?.url })
const base = server.spec.base
const wsBase = base.replace('http', 'ws')

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } })
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`)
  return res.json()
}

async function publish(stream: string, items: unknown[]): Promise<void> {
  await call('POST', `/v1/streams/${stream}/events`, items)
}

const now = () => performance.timeOrigin + performance.now()
const fmt = (ms: number) => ms.toFixed(2)

/** Pull: each consumer claims up to MAX (long-polling) and acks what it got, until `isDone()`. */
async function pullConsumers(group: string, isDone: () => boolean, onEvent: (e: any) => void, claimMs?: Histogram, onAcked?: (n: number) => void): Promise<void> {
  await Promise.all(
    Array.from({ length: CONSUMERS }, async (_, c) => {
      while (!isDone()) {
        const t = performance.now()
        const { deliveries } = await call('POST', `/v1/groups/${group}/claim`, { consumer: `c${c}`, max: MAX, wait: 1 })
        if (deliveries.length === 0) continue
        claimMs?.recordMs(performance.now() - t)
        for (const d of deliveries) onEvent(d.event)
        await call('POST', `/v1/groups/${group}/ack`, { consumer: `c${c}`, ids: deliveries.map((d: any) => d.event.id) })
        onAcked?.(deliveries.length)
      }
    }),
  )
}

/** Push: each consumer holds a WebSocket consume subscription with credit MAX and acks every delivery at once. */
async function pushConsumers(group: string, onEvent: (e: any) => void): Promise<WebSocket[]> {
  return Promise.all(
    Array.from({ length: CONSUMERS }, async (_, c) => {
      const ws = new WebSocket(`${wsBase}/v1/ws`)
      await new Promise((resolve, reject) => {
        ws.onopen = resolve
        ws.onerror = reject
      })
      ws.onmessage = (m) => {
        const frame = JSON.parse(String(m.data))
        if (frame.op !== 'delivery') return
        onEvent(frame.event)
        ws.send(JSON.stringify({ op: 'ack', group, ids: [frame.event.id] }))
      }
      ws.send(JSON.stringify({ op: 'consume', sub: 's', group, consumer: `p${c}`, max: MAX }))
      return ws
    }),
  )
}

async function drain(mode: 'pull' | 'push'): Promise<void> {
  const group = `drain-${mode}`
  // 20 streams of 5000: well within the default retention of 10 000 events per stream.
  const streams = Array.from({ length: 20 }, (_, i) => `${group}.s${i}`)
  const started = performance.now()
  for (let i = 0; i < EVENTS; i += 1000) await publish(streams[(i / 1000) % streams.length], Array.from({ length: 1000 }, (_, k) => ({ type: 'job', data: { n: i + k, pad: 'x'.repeat(64) } })))
  const publishMs = performance.now() - started
  await call('PUT', `/v1/groups/${group}`, { streams: [`${group}.*`], start: 'earliest' })
  let acked = 0
  let received = 0
  let ms = 0
  const t = performance.now()
  const claimMs = new Histogram()
  let sockets: WebSocket[] = []
  if (mode === 'pull') {
    // Timed until the last ack is answered; the consumers' final empty long-polls do not count.
    await pullConsumers(group, () => acked >= EVENTS, () => received++, claimMs, (n) => {
      acked += n
      if (acked >= EVENTS && ms === 0) ms = performance.now() - t
    })
  } else {
    sockets = await pushConsumers(group, () => received++)
    // WebSocket acks are not answered: wait until the group reports every ack taken.
    for (;;) {
      const info = await call('GET', `/v1/groups/${group}`)
      if (info.acks >= EVENTS) break
      await Bun.sleep(5)
    }
    ms = performance.now() - t
  }
  if (received !== EVENTS) throw new Error(`drain ${mode}: ${received} deliveries for ${EVENTS} events`)
  for (const ws of sockets) ws.close()
  const claims = mode === 'pull' ? `, claim p50 ${fmt(claimMs.quantileMs(0.5))} ms p99 ${fmt(claimMs.quantileMs(0.99))} ms` : ''
  console.log(`drain ${mode}: ${EVENTS} events, ${CONSUMERS} consumers, max ${MAX}: ${(ms / 1000).toFixed(2)} s → ${Math.round(EVENTS / (ms / 1000))} events/s claimed+acked${claims} (preload ${Math.round(EVENTS / (publishMs / 1000))} events/s published)`)
}

async function latency(mode: 'pull' | 'push'): Promise<void> {
  const group = `live-${mode}`
  await call('PUT', `/v1/groups/${group}`, { streams: [`${group}.*`], start: 'latest' })
  const h = new Histogram()
  let received = 0
  const onEvent = (e: any) => {
    h.recordMs(now() - e.data.sentAt)
    received++
  }
  let sockets: WebSocket[] = []
  const consumers = mode === 'pull' ? pullConsumers(group, () => received >= LIVE_EVENTS, onEvent) : undefined
  if (mode === 'push') sockets = await pushConsumers(group, onEvent)
  await Bun.sleep(200)
  // 10 events every 10 ms (about 1000 events/s), one stream per job.
  for (let i = 0; i < LIVE_EVENTS; i += 10) {
    const sentAt = now()
    await publish(`${group}.job${i % 40}`, Array.from({ length: 10 }, (_, k) => ({ type: 'job', data: { n: i + k, sentAt } })))
    await Bun.sleep(10)
  }
  const deadline = Date.now() + 30_000
  while (received < LIVE_EVENTS && Date.now() < deadline) await Bun.sleep(20)
  await consumers
  for (const ws of sockets) ws.close()
  console.log(`latency ${mode}: publish→first delivery over ${h.count} events (~1000/s): p50 ${fmt(h.quantileMs(0.5))} ms, p95 ${fmt(h.quantileMs(0.95))} ms, p99 ${fmt(h.quantileMs(0.99))} ms, max ${fmt(h.maxUs / 1000)} ms`)
}

/** PROBES rounds of claim PROBE_MAX + ack them, one at a time: latency of each call at the group's current pending count. */
async function probe(group: string, stream: string): Promise<{ claim: Histogram; ack: Histogram }> {
  for (let i = 0; i < PROBES * PROBE_MAX; i += 1000) await publish(stream, Array.from({ length: Math.min(1000, PROBES * PROBE_MAX - i) }, (_, k) => ({ type: 'probe', data: { n: i + k } })))
  const claim = new Histogram(), ack = new Histogram()
  for (let i = 0; i < PROBES; i++) {
    let t = performance.now()
    const { deliveries } = await call('POST', `/v1/groups/${group}/claim`, { consumer: 'probe', max: PROBE_MAX })
    claim.recordMs(performance.now() - t)
    if (deliveries.length !== PROBE_MAX) throw new Error(`leases: claim ${i} got ${deliveries.length} of ${PROBE_MAX}`)
    t = performance.now()
    await call('POST', `/v1/groups/${group}/ack`, { consumer: 'probe', ids: deliveries.map((d: any) => d.event.id) })
    ack.recordMs(performance.now() - t)
  }
  return { claim, ack }
}

/** Claim and ack latency with no lease pending, then with LEASES claimed and never acked (long ack timeout: none expire). */
async function leases(): Promise<void> {
  const group = 'leases'
  await call('PUT', `/v1/groups/${group}`, { streams: [`${group}.*`], start: 'earliest', ackTimeout: 3600 })
  const empty = await probe(group, `${group}.before`)
  const streams = Array.from({ length: 20 }, (_, i) => `${group}.s${i}`)
  for (let i = 0; i < LEASES; i += 1000) await publish(streams[(i / 1000) % streams.length], Array.from({ length: 1000 }, (_, k) => ({ type: 'job', data: { n: i + k } })))
  let held = 0
  const t = performance.now()
  await Promise.all(Array.from({ length: CONSUMERS }, async (_, c) => {
    while (held < LEASES) {
      const { deliveries } = await call('POST', `/v1/groups/${group}/claim`, { consumer: `hold${c}`, max: MAX })
      if (deliveries.length === 0) break
      held += deliveries.length
    }
  }))
  const holdMs = performance.now() - t
  const info = await call('GET', `/v1/groups/${group}`)
  if (held !== LEASES || info.pending !== LEASES) throw new Error(`leases: held ${held}, group reports ${info.pending} pending, expected ${LEASES}`)
  const full = await probe(group, `${group}.after`)
  const q = (h: Histogram) => `p50 ${fmt(h.quantileMs(0.5))} ms p99 ${fmt(h.quantileMs(0.99))} ms`
  console.log(`leases: claim ${PROBE_MAX} + ack, ${PROBES} rounds: 0 pending: claim ${q(empty.claim)}, ack ${q(empty.ack)}; ` +
    `${LEASES} pending: claim ${q(full.claim)}, ack ${q(full.ack)} (the ${LEASES} leases taken in ${(holdMs / 1000).toFixed(1)} s, ${CONSUMERS} consumers, max ${MAX})`)
}

try {
  console.log(`groups bench (${isQuick ? 'quick' : 'full'}): ${server.description}${redis ? `, groups and events in ${(await redis.cli('INFO', 'server')).match(/redis_version:\S+/)?.[0]} (AOF everysec)` : ', SQLite'}`)
  await drain('pull')
  await drain('push')
  await latency('pull')
  await latency('push')
  await leases()
} finally {
  await server.stop()
  await redis?.stop()
}
