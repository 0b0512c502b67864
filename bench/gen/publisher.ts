import type { HttpRequest, Target } from '../targets/target.ts'
import { HttpConnection, type HttpResponse } from './http-conn.ts'
import { nowMs, payload } from './payload.ts'

export const MAX_IN_FLIGHT = 8

export interface PublishPlan {
  streams: string[]
  /** Events per second over all streams, published round-robin. */
  rate: number
  durationMs: number
  padBytes: number
}

export interface PublishReport {
  /** Highest seq acknowledged per stream index (seqs are 1..n per stream). */
  published: Record<number, number>
  total: number
  errors: number
  wallMs: number
  achievedRate: number
  /** Events still waiting behind a busy stream when the time ran out: the publisher fell behind. */
  backlog: number
  ackMs: { p50: number; p99: number }
}

/**
 * Paced publisher. Up to MAX_IN_FLIGHT requests per stream: a server that fans out inside the publish request
 * answers in ~1000 × µs, so one at a time would cap the rate, not the server. The send time is stamped when a
 * request leaves. `published` is updated as acks arrive, so a caller can read progress mid-run (reconnect storm).
 * With several nodes' targets, successive events go to successive nodes. Requests go out on keep-alive connections
 * that stay open for the whole run, so every server is measured without accepting new ones.
 */
export async function publish(targets: Target[], plan: PublishPlan, published: Record<number, number> = {}): Promise<PublishReport> {
  const n = plan.streams.length
  const seq = new Array<number>(n).fill(0)
  const queued = new Array<number>(n).fill(0)
  const inFlight = new Array<number>(n).fill(0)
  const acks: number[] = []
  let total = 0, errors = 0, due = 0, rr = 0, node = 0
  const started = performance.now()
  const connections = new KeepAlive()

  const send = async (s: number, q: number): Promise<void> => {
    const req = targets[node++ % targets.length].publish(plan.streams[s], payload(s, q, plan.padBytes))
    const t0 = nowMs()
    try {
      const res = await connections.post(req)
      if (res.status >= 200 && res.status < 300) { published[s] = Math.max(published[s] ?? 0, q); total++; acks.push(nowMs() - t0) } else errors++
    } catch { errors++ }
    inFlight[s]--
    pump(s)
  }
  const pump = (s: number): void => {
    while (queued[s] > 0 && inFlight[s] < MAX_IN_FLIGHT) {
      queued[s]--
      inFlight[s]++
      void send(s, ++seq[s])
    }
  }

  for (;;) {
    const elapsed = performance.now() - started
    if (elapsed >= plan.durationMs) break
    const target = Math.floor((elapsed / 1000) * plan.rate)
    for (; due < target; due++) {
      const s = rr++ % n
      queued[s]++
      pump(s)
    }
    await Bun.sleep(2)
  }
  const backlog = queued.reduce((a, b) => a + b, 0)
  queued.fill(0)
  while (inFlight.some((x) => x > 0)) await Bun.sleep(2)
  const wallMs = performance.now() - started
  connections.close()
  acks.sort((a, b) => a - b)
  const pick = (q: number) => acks.length ? acks[Math.min(acks.length - 1, Math.floor(q * acks.length))] : NaN
  return { published, total, errors, wallMs, achievedRate: total / (wallMs / 1000), backlog, ackMs: { p50: pick(0.5), p99: pick(0.99) } }
}

/** Idle keep-alive connections per origin: a request takes one, or opens one, and gives it back when answered. */
class KeepAlive {
  private idle = new Map<string, HttpConnection[]>()
  private all: HttpConnection[] = []

  async post(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url)
    const free = this.idle.get(url.host) ?? []
    this.idle.set(url.host, free)
    const conn = free.pop() ?? this.open(url)
    try {
      return await conn.request('POST', url.pathname + url.search, req.headers, req.body)
    } finally {
      // A connection that failed reconnects on its next request.
      free.push(conn)
    }
  }

  close(): void {
    for (const conn of this.all) conn.close()
  }

  private open(url: URL): HttpConnection {
    const conn = new HttpConnection(url.hostname, Number(url.port || 80))
    this.all.push(conn)
    return conn
  }
}
