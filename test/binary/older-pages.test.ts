import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type BinaryServer, post, requireBinary, startBinary } from '../helpers/binary'

// Polling with before=ID pages backwards, as a UI scrolling back asks: the `limit` matching events
// before ID, oldest first. A ring of 4 makes most pages come from SQLite, the newest from memory.

interface Published {
  id: number
  stream: string
  type: string
  correlationId?: string
}

let server: BinaryServer
const published: Published[] = []
beforeAll(async () => {
  requireBinary()
  server = await startBinary({ args: ['--ring-size', '4'] })
  for (let i = 0; i < 24; i++) {
    const stream = i % 3 === 2 ? 'older.b' : 'older.a'
    const item = { type: i % 2 === 0 ? 'even' : 'odd', data: i, ...(i < 12 && { correlationId: 'first-half' }) }
    const { status, body } = await post(server.url, stream, item)
    expect(status).toBe(201)
    published.push({ id: body.id, stream, type: item.type, correlationId: item.correlationId })
  }
})
afterAll(async () => {
  await server?.dispose()
})

async function page(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`)
  return { status: res.status, body: await res.json() }
}

const idsOf = (events: { id: number }[]) => events.map((e) => e.id)

describe('before=ID&limit=N', () => {
  test('answers the N events before ID, oldest first; next is the last id of the page', async () => {
    const ofA = published.filter((e) => e.stream === 'older.a').map((e) => e.id)
    const before = ofA[10]
    const { status, body } = await page(`/v1/streams/older.a/events?before=${before}&limit=3`)
    expect(status).toBe(200)
    expect(idsOf(body.events)).toEqual(ofA.slice(7, 10))
    expect(body.next).toBe(ofA[9])
    expect(body.closed).toBe(false)
  })

  test('scrolling back page by page from the newest reaches the first event, with every event once', async () => {
    const ofA = published.filter((e) => e.stream === 'older.a').map((e) => e.id)
    let { body } = await page('/v1/streams/older.a/events?limit=3')
    const seen: number[] = idsOf(body.events)
    for (;;) {
      ;({ body } = await page(`/v1/streams/older.a/events?before=${seen[0]}&limit=3`))
      if (body.events.length === 0) break
      seen.unshift(...idsOf(body.events))
    }
    expect(seen).toEqual(ofA)
    // An empty page: nothing before the first event; next is the position just before it.
    expect(body.next).toBe(ofA[0] - 1)
  })

  test('with types and correlationId, and over several streams and patterns', async () => {
    const last = published[published.length - 1].id
    const rows: [string, (e: Published) => boolean][] = [
      ['/v1/streams/older.a/events?types=odd', (e) => e.stream === 'older.a' && e.type === 'odd'],
      ['/v1/streams/older.a/events?correlationId=first-half', (e) => e.stream === 'older.a' && e.correlationId === 'first-half'],
      ['/v1/events?stream=older.*', () => true],
      ['/v1/events?stream=older.a&stream=older.b&types=even', (e) => e.type === 'even'],
      ['/v1/events?stream=older.**&correlationId=first-half&types=odd', (e) => e.correlationId === 'first-half' && e.type === 'odd'],
    ]
    for (const [path, isMatch] of rows) {
      for (const before of [last + 1, published[17].id, published[5].id]) {
        const expected = published.filter((e) => isMatch(e) && e.id < before).map((e) => e.id).slice(-4)
        const { status, body } = await page(`${path}&before=${before}&limit=4`)
        expect(status).toBe(200)
        expect({ path, before, ids: idsOf(body.events) }).toEqual({ path, before, ids: expected })
      }
    }
  })

  test('before the first id there is nothing: an empty page whose next is before - 1', async () => {
    const { body } = await page('/v1/streams/older.a/events?before=1')
    expect(body).toEqual({ events: [], next: 0, closed: false })
  })

  test('together with after, since or wait, on an SSE subscription or an export, or below 1: a 400 naming it', async () => {
    const rows: [string, Record<string, string>, string][] = [
      ['before=5&after=2', {}, 'before cannot be combined with after.'],
      ['before=5&since=2026-11-22T04:00:00Z', {}, 'before cannot be combined with since.'],
      ['before=5&wait=10', {}, 'before cannot be combined with wait.'],
      ['before=5', { Accept: 'text/event-stream' }, 'before pages a poll; it does not apply to an SSE subscription.'],
      ['before=5', { Accept: 'application/x-ndjson' }, 'before pages a poll; it does not apply to an export.'],
      ['before=0', {}, 'before must be ≥ 1, got 0.'],
      ['before=soon', {}, 'before must be an integer ≥ 1, got "soon".'],
    ]
    for (const [query, headers, detail] of rows) {
      const res = await fetch(`${server.url}/v1/streams/older.a/events?${query}`, { headers })
      expect(res.status).toBe(400)
      expect(res.headers.get('content-type')).toContain('application/problem+json')
      expect(await res.json()).toMatchObject({ code: 'invalid_request', detail })
    }
  })
})
