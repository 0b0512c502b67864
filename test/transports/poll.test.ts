import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eventually, publishEvents, publishN } from '../helpers/publisher'
import { startTestServer, type TestServer } from '../helpers/start-server'

// JSON polling, long-polling and NDJSON export specifics.

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.close())

async function poll(path: string, init?: RequestInit): Promise<any> {
  const res = await fetch(`${server.url}${path}`, init)
  expect(res.status).toBe(200)
  return (await res.json()) as any
}

const ids = (events: { id: number }[]) => events.map((e) => e.id)

test('with neither after nor since: the latest `limit` events, oldest first; next is the last id', async () => {
  const events = await publishN(server.url, 'poll-tail.1', 10)
  const page = await poll('/v1/streams/poll-tail.1/events?limit=3')
  expect(ids(page.events)).toEqual(ids(events.slice(7)))
  expect(page.events[0]).toEqual(events[7])
  expect(page.next).toBe(events[9].id)
  expect(page.closed).toBe(false)
})

test('next: the last id on the page; on an empty page the position asked from; with nothing given the current last id', async () => {
  const events = await publishN(server.url, 'poll-next.1', 5)
  const full = await poll(`/v1/streams/poll-next.1/events?after=${events[0].id}&limit=2`)
  expect(ids(full.events)).toEqual(ids(events.slice(1, 3)))
  expect(full.next).toBe(events[2].id)
  const rest = await poll(`/v1/streams/poll-next.1/events?after=${full.next}`)
  expect(ids(rest.events)).toEqual(ids(events.slice(3)))
  expect(rest.next).toBe(events[4].id)
  // Another stream moves the global id on; this stream's empty page still answers the position asked from.
  const [elsewhere] = await publishN(server.url, 'poll-next.2', 1)
  const empty = await poll(`/v1/streams/poll-next.1/events?after=${events[4].id}`)
  expect(empty).toEqual({ events: [], next: events[4].id, closed: false })
  const unknown = await poll('/v1/streams/poll-next.never/events')
  expect(unknown).toEqual({ events: [], next: elsewhere.id, closed: false })
})

test('a stream that does not exist yet is an empty page, not 404', async () => {
  const page = await poll('/v1/streams/poll-nobody.1/events?after=0')
  expect(page.events).toEqual([])
  expect(page.closed).toBe(false)
  expect((await fetch(`${server.url}/v1/streams/poll-nobody.1`)).status).toBe(404)
})

test('since= starts at the first event at or after an ISO time', async () => {
  await publishN(server.url, 'poll-since.1', 3, 'old')
  await Bun.sleep(5) // the property is about timestamps: the next batch must carry a later millisecond
  const recent = await publishN(server.url, 'poll-since.1', 3, 'new')
  const page = await poll(`/v1/streams/poll-since.1/events?since=${encodeURIComponent(recent[0].time)}`)
  expect(page.events).toEqual(recent)
  const future = await poll(`/v1/streams/poll-since.1/events?since=${new Date(Date.now() + 60_000).toISOString()}`)
  expect(future.events).toEqual([])
})

test('types= narrows a page', async () => {
  const events = await publishEvents(server.url, 'poll-types.1', ['a', 'b', 'a', 'c'].map((type) => ({ type, data: type })))
  const page = await poll(`/v1/streams/poll-types.1/events?after=0&types=a,c`)
  expect(ids(page.events)).toEqual(ids(events.filter((e) => e.type !== 'b')))
})

/** Resolves once a long-poll on `stream` is held by the server (it lists it as a live connection). */
function longPollHeld(stream: string): Promise<void> {
  return eventually(async () => {
    const { connections } = (await (await fetch(`${server.url}/v1/connections`)).json()) as any
    return connections.some((c: any) => c.transport === 'poll' && c.patterns.includes(stream))
  }, 3000, 'long-poll registered')
}

test('long-poll: wait=5 answers as soon as an event is published', async () => {
  const [last] = await publishN(server.url, 'poll-wait.1', 1)
  const pending = fetch(`${server.url}/v1/streams/poll-wait.1/events?after=${last.id}&wait=5`).then((r) => r.json() as Promise<any>)
  await longPollHeld('poll-wait.1')
  const started = performance.now()
  const [live] = await publishN(server.url, 'poll-wait.1', 1)
  const page = await pending
  expect(performance.now() - started).toBeLessThan(2000)
  expect(page).toEqual({ events: [live], next: live.id, closed: false })
})

test('long-poll: with nothing published, wait=1 ends with an empty page, not before the second is up', async () => {
  const [last] = await publishN(server.url, 'poll-quiet.1', 1)
  const started = performance.now()
  const page = await poll(`/v1/streams/poll-quiet.1/events?after=${last.id}&wait=1`)
  expect(performance.now() - started).toBeGreaterThanOrEqual(1000)
  expect(page).toEqual({ events: [], next: last.id, closed: false })
})

test('long-poll: a client that goes away frees its place at once', async () => {
  const [last] = await publishN(server.url, 'poll-gone.1', 1)
  const abort = new AbortController()
  const pending = fetch(`${server.url}/v1/streams/poll-gone.1/events?after=${last.id}&wait=60`, { signal: abort.signal }).catch(() => 'aborted')
  await longPollHeld('poll-gone.1')
  abort.abort()
  expect(await pending).toBe('aborted')
  await eventually(async () => {
    const { connections } = (await (await fetch(`${server.url}/v1/connections`)).json()) as any
    return !connections.some((c: any) => c.patterns.includes('poll-gone.1'))
  }, 3000, 'aborted long-poll released')
})

test('long-poll from a position never issued: the reset is never lost', async () => {
  const [last] = await publishN(server.url, 'poll-reset.1', 1)
  const far = last.id + 100
  const pending = fetch(`${server.url}/v1/streams/poll-reset.1/events?after=${far}&wait=5`).then((r) => r.json() as Promise<any>)
  // Answering at once with the reset is fine; if the server holds the poll instead, an event arriving must not hide it.
  const first = await Promise.race([pending, longPollHeld('poll-reset.1').then(() => 'held' as const)])
  const live = first === 'held' ? await publishN(server.url, 'poll-reset.1', 1) : []
  const page = first === 'held' ? await pending : first
  expect(page.reset).toEqual({ after: far, lastId: last.id })
  expect(page.events).toEqual(live)
  expect(page.next).toBe(live[0]?.id ?? last.id)
})

test('a closed stream: its remaining events and closed: true', async () => {
  const events = await publishEvents(server.url, 'poll-closed.1', [{ data: 1 }, { data: 2, terminal: true }])
  const page = await poll(`/v1/streams/poll-closed.1/events?after=${events[0].id}`)
  expect(page).toEqual({ events: [events[1]], next: events[1].id, closed: true })
  // A long-poll on a closed stream does not wait.
  const started = performance.now()
  const done = await poll(`/v1/streams/poll-closed.1/events?after=${events[1].id}&wait=5`)
  expect(done).toEqual({ events: [], next: events[1].id, closed: true })
  expect(performance.now() - started).toBeLessThan(2000)
})

test('NDJSON export: every retained event, one envelope per line', async () => {
  const events = [...(await publishN(server.url, 'poll-export.1', 1000)), ...(await publishN(server.url, 'poll-export.1', 510, 'more'))]
  const res = await fetch(`${server.url}/v1/streams/poll-export.1/events`, { headers: { Accept: 'application/x-ndjson' } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toStartWith('application/x-ndjson')
  const text = await res.text()
  expect(text.endsWith('\n')).toBe(true)
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  expect(lines).toEqual(events)
  const tail = await (await fetch(`${server.url}/v1/streams/poll-export.1/events?after=${events[1499].id}`, { headers: { Accept: 'application/x-ndjson' } })).text()
  expect(tail.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(events.slice(1500))
})

test('limit above 1000 and wait above 60 are 400s, not clamped', async () => {
  for (const q of ['limit=1001', 'wait=61']) {
    const res = await fetch(`${server.url}/v1/streams/poll-bad.1/events?${q}`)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toStartWith('application/problem+json')
    await res.text()
  }
})
