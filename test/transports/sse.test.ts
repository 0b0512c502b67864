import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test'
import { eventually, publishN } from '../helpers/publisher'
import { SseClient } from '../helpers/sse-client'
import { startTestServer, type TestServer } from '../helpers/start-server'

// SSE specifics: framing, headers, heartbeats, connection bookkeeping, Last-Event-ID.

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.close())

const clients: SseClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
})
function open(path: string, headers: Record<string, string> = {}): SseClient {
  const c = SseClient.open(`${server.url}${path}`, headers)
  clients.push(c)
  return c
}

test('headers and retry: arrive before any event is published', async () => {
  const c = open('/v1/streams/sse-open.1/events')
  const res = await c.opened()
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toStartWith('text/event-stream')
  expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
  expect(res.headers.get('x-accel-buffering')).toBe('no')
  const first = await c.until(() => true)
  expect(Number(first.retry)).toBeGreaterThan(0)
  expect(first.id).toBeUndefined()
  expect(first.data).toBeUndefined()
  // Nothing was ever published to this stream: it does not exist yet, and that is fine.
  expect((await fetch(`${server.url}/v1/streams/sse-open.1`)).status).toBe(404)
})

test('an event frame is id, event (unless message), one data line with the envelope', async () => {
  const c = open('/v1/streams/sse-frame.1/events')
  await c.until((f) => f.retry !== undefined)
  const [typed] = await publishN(server.url, 'sse-frame.1', 1, 'stage_completed')
  const [plain] = await publishN(server.url, 'sse-frame.1', 1, 'message')
  const [a, b] = await c.take(2)
  expect(a).toMatchObject({ id: String(typed.id), event: 'stage_completed' })
  expect(JSON.parse(a.data!)).toEqual(typed)
  expect(b).toMatchObject({ id: String(plain.id), event: 'message' })
  expect(JSON.parse(b.data!)).toEqual(plain)
})

test('?heartbeat=1 sends ": hb" comments', async () => {
  const c = open('/v1/streams/sse-hb.1/events?heartbeat=1')
  const hb = await c.until((f) => f.comments.includes('hb'), 3000)
  expect(hb.data).toBeUndefined()
})

test('a quiet stream is not cut: heartbeats keep coming for 3 s', async () => {
  // The property is about time passing, so this test waits on time.
  const c = open('/v1/streams/sse-quiet.1/events?heartbeat=1')
  await c.until((f) => f.retry !== undefined)
  await Bun.sleep(3200)
  const beats = c.frames.filter((f) => f.comments.includes('hb')).length
  expect(beats).toBeGreaterThanOrEqual(2)
  expect(c.isEnded).toBe(false)
  const [live] = await publishN(server.url, 'sse-quiet.1', 1)
  expect((await c.next()).id).toBe(String(live.id))
}, 10_000)

test('a disconnected client leaves GET /v1/connections promptly', async () => {
  const pattern = 'sse-gone.*'
  const listed = async () => {
    const { connections } = (await (await fetch(`${server.url}/v1/connections`)).json()) as any
    return connections.filter((c: any) => c.transport === 'sse' && c.patterns.includes(pattern))
  }
  const c = open(`/v1/events?stream=${pattern}`)
  await c.until((f) => f.retry !== undefined)
  expect(await listed()).toHaveLength(1)
  c.close()
  await eventually(async () => (await listed()).length === 0, 2000, 'connection removed')
})

test('Last-Event-ID wins over after', async () => {
  const stream = 'sse-lei.1'
  const events = await publishN(server.url, stream, 4)
  const newer = open(`/v1/streams/${stream}/events?after=${events[0].id}`, { 'Last-Event-ID': String(events[2].id) })
  expect((await newer.next()).id).toBe(String(events[3].id))
  const older = open(`/v1/streams/${stream}/events?after=${events[2].id}`, { 'Last-Event-ID': String(events[0].id) })
  expect((await older.take(3)).map((f) => f.id)).toEqual(events.slice(1).map((e) => String(e.id)))
})

test('control frames carry no id, so they never move Last-Event-ID', async () => {
  const stream = 'sse-ctl.1'
  const [last] = await publishN(server.url, stream, 1)
  const c = open(`/v1/streams/${stream}/events?after=${last.id + 50}`)
  const reset = await c.next()
  expect(reset.event).toBe('reset')
  expect(reset.id).toBeUndefined()
  expect(JSON.parse(reset.data!)).toEqual({ after: last.id + 50, lastId: last.id })
})
