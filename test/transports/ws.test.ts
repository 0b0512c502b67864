import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test'
import { publishN } from '../helpers/publisher'
import { startTestServer, type TestServer } from '../helpers/start-server'
import { WsTestClient } from '../helpers/ws-client'

// WebSocket protocol specifics: bad frames, publish, unsubscribe, per-subscription replay, once-per-socket delivery.

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.close())

const sockets: WsTestClient[] = []
afterEach(() => {
  for (const s of sockets.splice(0)) s.close()
})
async function connect(): Promise<WsTestClient> {
  const s = await WsTestClient.open(`${server.url.replace(/^http/, 'ws')}/v1/ws`)
  sockets.push(s)
  return s
}

/** The socket is still open and answering. */
async function expectUsable(ws: WsTestClient): Promise<void> {
  ws.send({ op: 'ping', ref: 'alive' })
  expect(await ws.next((m) => m.op === 'pong' || m.op === 'error')).toEqual({ op: 'pong', ref: 'alive' })
  expect(ws.closeCode).toBeUndefined()
}

async function subscribed(ws: WsTestClient, frame: { sub: string; [field: string]: unknown }): Promise<void> {
  ws.send({ op: 'subscribe', ...frame })
  expect(await ws.next((m) => m.sub === frame.sub)).toEqual({ op: 'ok', sub: frame.sub })
}

test('ping gets pong', async () => {
  const ws = await connect()
  ws.send({ op: 'ping' })
  expect(await ws.next()).toEqual({ op: 'pong' })
})

test.each([
  ['bad JSON', '{"op":"subscribe",', {}],
  ['unknown op', { op: 'shout', ref: 'r1' }, { ref: 'r1' }],
  ['missing op', { sub: 's9' }, { sub: 's9' }],
  ['subscribe with a bad pattern', { op: 'subscribe', sub: 's1', streams: ['jobs.**.x'] }, { sub: 's1' }],
  ['subscribe with no streams', { op: 'subscribe', sub: 's2', streams: [] }, { sub: 's2' }],
  ['subscribe with an unknown field', { op: 'subscribe', sub: 's3', streams: ['a.1'], nope: 1 }, { sub: 's3' }],
  ['publish to a bad stream name', { op: 'publish', ref: 'p1', stream: 'bad name', data: 1 }, { ref: 'p1' }],
] as [string, unknown, object][])('%s: an error reply names the frame, the socket stays usable', async (_, frame, ids) => {
  const ws = await connect()
  ws.send(frame)
  const reply = await ws.next()
  expect(reply).toMatchObject({ op: 'error', ...ids })
  expect(typeof reply.error.code).toBe('string')
  expect(reply.error.message.length).toBeGreaterThan(0)
  await expectUsable(ws)
})

test('a duplicate sub id is an error; the first subscription keeps working', async () => {
  const ws = await connect()
  await subscribed(ws, { sub: 's1', streams: ['ws-dupsub.1'] })
  ws.send({ op: 'subscribe', sub: 's1', streams: ['ws-dupsub.2'] })
  expect(await ws.next()).toMatchObject({ op: 'error', sub: 's1', error: { code: 'bad_request' } })
  await expectUsable(ws)
  const [e] = await publishN(server.url, 'ws-dupsub.1', 1)
  expect(await ws.events(1)).toEqual([e])
})

test('publish with ref: ok with the ref and id; the event is stored and delivered', async () => {
  const ws = await connect()
  await subscribed(ws, { sub: 's', streams: ['ws-pub.*'] })
  ws.send({ op: 'publish', ref: 'r1', stream: 'ws-pub.1', type: 'made', data: { x: 1 }, correlationId: 'c1' })
  const ok = await ws.next((m) => m.op === 'ok' && m.ref === 'r1')
  expect(ok).toMatchObject({ op: 'ok', ref: 'r1', duplicate: false })
  expect(ok.id).toBeGreaterThan(0)
  const page = (await (await fetch(`${server.url}/v1/streams/ws-pub.1/events?after=0`)).json()) as any
  expect(page.events).toHaveLength(1)
  expect(page.events[0]).toMatchObject({ id: ok.id, stream: 'ws-pub.1', type: 'made', data: { x: 1 }, correlationId: 'c1' })
  // The subscriber got it too (the event may come before or after the ok: both follow the commit).
  expect(ws.messages.filter((m) => m.op === 'event')).toEqual([{ op: 'event', event: page.events[0] }])
})

test('unsubscribe stops delivery', async () => {
  const ws = await connect()
  await subscribed(ws, { sub: 'one', streams: ['ws-unsub.1'] })
  await subscribed(ws, { sub: 'two', streams: ['ws-unsub.2'] })
  ws.send({ op: 'unsubscribe', sub: 'one' })
  expect(await ws.next()).toEqual({ op: 'ok', sub: 'one' })
  await publishN(server.url, 'ws-unsub.1', 2)
  const [sentinel] = await publishN(server.url, 'ws-unsub.2', 1)
  // The first event this socket gets is the sentinel: nothing from the dropped subscription came before it.
  expect(await ws.events(1)).toEqual([sentinel])
  ws.send({ op: 'unsubscribe', sub: 'one' })
  expect(await ws.next()).toMatchObject({ op: 'error', sub: 'one', error: { code: 'not_found' } })
})

test('a subscribe with after replays its history in full, even events another subscription delivered', async () => {
  const ws = await connect()
  await subscribed(ws, { sub: 'live', streams: ['ws-replay.1'] })
  const first = await publishN(server.url, 'ws-replay.1', 3)
  expect(await ws.events(3)).toEqual(first)
  await subscribed(ws, { sub: 'again', streams: ['ws-replay.*'], after: first[0].id - 1 })
  expect(await ws.events(3)).toEqual(first)
  // Live events matching both subscriptions come once.
  const [live] = await publishN(server.url, 'ws-replay.1', 1)
  const [sentinel] = await publishN(server.url, 'ws-replay.2', 1)
  expect(await ws.events(2)).toEqual([live, sentinel])
})

test('a live event matching two subscriptions arrives once', async () => {
  const ws = await connect()
  await subscribed(ws, { sub: 'all', streams: ['ws-twice.*'] })
  await subscribed(ws, { sub: 'one', streams: ['ws-twice.1'], types: ['t'] })
  const [e] = await publishN(server.url, 'ws-twice.1', 1, 't')
  const [sentinel] = await publishN(server.url, 'ws-twice.2', 1, 't')
  expect(await ws.events(2)).toEqual([e, sentinel])
})

test('end names the subscription whose exact stream closed; others on the socket go on', async () => {
  const ws = await connect()
  await subscribed(ws, { sub: 'exact', streams: ['ws-end.1'] })
  await subscribed(ws, { sub: 'other', streams: ['ws-end.2'] })
  await fetch(`${server.url}/v1/streams/ws-end.1/close`, { method: 'POST' })
  expect(await ws.next()).toEqual({ op: 'end', sub: 'exact' })
  const [e] = await publishN(server.url, 'ws-end.2', 1)
  expect(await ws.events(1)).toEqual([e])
})
