/**
 * The raw-Bun reference peer: the smallest Bun.serve that speaks the part of ringcast's API the bench uses
 * (publish one event or a batch; SSE with ?after= / Last-Event-ID; WebSocket subscribe with topic publish;
 * long-poll with after / wait / limit), in ringcast's wire format, from an in-memory ring per stream.
 * No durability, validation, auth, limits, backpressure or heartbeats: the ceiling for our stack.
 * With --durable FILE, each publish request is first committed to SQLite as ringcast's log commits it (one
 * transaction, WAL, synchronous=NORMAL, the same events table and index): the ceiling with durable acks.
 * usage: bun bench/peers/raw-bun.ts PORT [--durable FILE]
 */
import { Database } from 'bun:sqlite'
import type { ServerWebSocket } from 'bun'

const RING = 10_000
const encoder = new TextEncoder()
const JSON_HEADERS = { 'content-type': 'application/json' }
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' }

interface Stored { id: number; type: string; data: string; json: string; sse: Uint8Array; ws: string }
interface Direct { write(chunk: Uint8Array | string): unknown }

class Stream {
  events: Stored[] = []
  readonly sse = new Set<Direct>()
  readonly polls = new Set<(events: Stored[]) => void>()

  constructor(readonly name: string) {}

  /** Events with an id above `id`, oldest first (binary search: ids grow along the ring). */
  after(id: number, limit = Infinity): Stored[] {
    let lo = 0, hi = this.events.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.events[mid].id <= id) lo = mid + 1
      else hi = mid
    }
    return this.events.slice(lo, lo + limit)
  }

  append(item: { type?: string; data?: unknown }, time: string): Stored {
    const id = ++lastId
    const type = item.type ?? 'message'
    const data = JSON.stringify(item.data ?? null)
    const json = `{"id":${id},"stream":${JSON.stringify(this.name)},"type":${JSON.stringify(type)},"data":${data},"time":"${time}"}`
    const sse = encoder.encode(type === 'message' ? `id: ${id}\ndata: ${json}\n\n` : `id: ${id}\nevent: ${type}\ndata: ${json}\n\n`)
    const stored = { id, type, data, json, sse, ws: `{"op":"event","event":${json}}` }
    this.events.push(stored)
    // Trimmed in one go at twice the ring's size: amortized O(1) per event.
    if (this.events.length > 2 * RING) this.events = this.events.slice(-RING)
    return stored
  }
}

const streams = new Map<string, Stream>()
let lastId = 0
const streamOf = (name: string): Stream => {
  let s = streams.get(name)
  if (!s) streams.set(name, s = new Stream(name))
  return s
}

/** With --durable: commits one request's events in one transaction, or throws (Bun then answers 500). */
function openLog(path: string): (stream: string, events: Stored[], timeMs: number) => void {
  const db = new Database(path, { create: true, strict: true })
  for (const pragma of ['locking_mode = EXCLUSIVE', 'journal_mode = WAL', 'synchronous = NORMAL', 'temp_store = MEMORY']) db.exec(`PRAGMA ${pragma}`)
  db.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, stream TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, time INTEGER NOT NULL, key TEXT, correlation_id TEXT);
           CREATE INDEX IF NOT EXISTS events_stream_id ON events (stream, id)`)
  const insert = db.prepare('INSERT INTO events (id, stream, type, data, time) VALUES (?, ?, ?, ?, ?)')
  return db.transaction((stream: string, events: Stored[], timeMs: number) => {
    for (const e of events) insert.run(e.id, stream, e.type, e.data, timeMs)
  })
}
const commit = process.argv[3] === '--durable' ? openLog(process.argv[4]) : null

const sseChunk = (events: Stored[]): Uint8Array => (events.length === 1 ? events[0].sse : Buffer.concat(events.map((e) => e.sse)))
const page = (events: Stored[], after: number): Response =>
  new Response(`{"events":[${events.map((e) => e.json).join(',')}],"next":${events.length ? events[events.length - 1].id : after},"closed":false}`, { headers: JSON_HEADERS })

async function publish(req: Request & { params: { stream: string } }): Promise<Response> {
  const body = JSON.parse(await req.text())
  const s = streamOf(req.params.stream)
  const now = Date.now()
  const time = new Date(now).toISOString()
  const stored = (Array.isArray(body) ? body : [body]).map((item) => s.append(item, time))
  // Committed before any subscriber or the publisher hears of them.
  commit?.(s.name, stored, now)
  const chunk = sseChunk(stored)
  for (const c of s.sse) c.write(chunk)
  for (const e of stored) server.publish(s.name, e.ws)
  for (const answer of s.polls) answer(stored)
  return new Response(Array.isArray(body) ? `[${stored.map((e) => e.json).join(',')}]` : stored[0].json, { status: 201, headers: JSON_HEADERS })
}

function subscribeSse(req: Request, s: Stream, position: number | null): Response {
  let controller: Direct | undefined
  let ended: (() => void) | undefined
  const leave = () => {
    if (controller) s.sse.delete(controller)
    ended?.()
  }
  req.signal.addEventListener('abort', leave, { once: true })
  const source = {
    type: 'direct',
    // A direct stream ends when pull() resolves, so it waits until the client leaves.
    pull(c: Direct) {
      controller = c
      c.write('retry: 1000\n: raw-bun\n\n')
      const replay = position === null ? [] : s.after(position)
      if (replay.length) c.write(sseChunk(replay))
      s.sse.add(c)
      return new Promise<void>((resolve) => (ended = resolve))
    },
    cancel: leave,
  }
  return new Response(new ReadableStream(source as unknown as ConstructorParameters<typeof ReadableStream>[0]), { headers: SSE_HEADERS })
}

function longPoll(req: Request, s: Stream, url: URL): Response | Promise<Response> {
  const after = Number(url.searchParams.get('after') ?? 0)
  const limit = Number(url.searchParams.get('limit') ?? 100)
  const waitMs = Number(url.searchParams.get('wait') ?? 0) * 1000
  const ready = s.after(after, limit)
  if (ready.length || waitMs <= 0) return page(ready, after)
  return new Promise((resolve) => {
    const answer = (events: Stored[]) => {
      clearTimeout(timer)
      s.polls.delete(answer)
      resolve(page(events.slice(0, limit), after))
    }
    const timer = setTimeout(answer, waitMs, [])
    s.polls.add(answer)
    req.signal.addEventListener('abort', () => answer([]), { once: true })
  })
}

function read(req: Request & { params: { stream: string } }): Response | Promise<Response> {
  const s = streamOf(req.params.stream)
  const url = new URL(req.url)
  if (!req.headers.get('accept')?.includes('text/event-stream')) return longPoll(req, s, url)
  const position = req.headers.get('last-event-id') ?? url.searchParams.get('after')
  return subscribeSse(req, s, position === null ? null : Number(position))
}

function onFrame(ws: ServerWebSocket<unknown>, text: string): void {
  const frame = JSON.parse(text) as { op: string; sub?: string; streams?: string[]; after?: number }
  if (frame.op !== 'subscribe' || !frame.streams) {
    ws.send(`{"op":"error","error":{"code":"unsupported","message":"raw-bun only subscribes"}}`)
    return
  }
  ws.send(`{"op":"ok","sub":${JSON.stringify(frame.sub ?? null)}}`)
  // Replay and joining the topic happen in one turn: nothing can be published in between.
  for (const name of frame.streams) {
    if (frame.after !== undefined) for (const e of streamOf(name).after(frame.after)) ws.send(e.ws)
    ws.subscribe(name)
  }
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.argv[2] ?? 0),
  // Quiet SSE streams and parked long-polls must not be cut (there are no heartbeats).
  idleTimeout: 0,
  routes: {
    '/readyz': new Response('ok\n'),
    '/v1/streams/:stream/events': { GET: read, POST: publish },
    '/v1/ws': (req, srv) => (srv.upgrade(req) ? undefined : new Response('WebSocket upgrade expected', { status: 400 })),
  },
  websocket: { message: (ws, msg) => onFrame(ws, String(msg)) },
  fetch: () => new Response('not found', { status: 404 }),
})
console.log(`raw-bun listening on ${server.url}`)
