import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { publish } from '../helpers/start-server'
import { startTarget, type Target, TARGETS } from '../helpers/targets'

// Small limits so the size rows stay small.
const MAX_PAYLOAD = 1024
const MAX_BATCH = 3

interface Row {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string | (() => RequestInit['body'])
  status: number
  code: string
  /** Text the detail must contain. */
  detail?: string
}

const JSON_HEADERS = { 'Content-Type': 'application/json' }
const post = (stream: string, body: string, headers: Record<string, string> = JSON_HEADERS): Partial<Row> => ({ method: 'POST', path: `/v1/streams/${stream}/events`, headers, body })
const big = 'x'.repeat(MAX_PAYLOAD + 100)
/** A body sent as a stream (chunked transfer encoding, no Content-Length), in small pieces. */
const chunked = (text: string) => () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      const bytes = new TextEncoder().encode(text)
      for (let at = 0; at < bytes.length; at += 256) controller.enqueue(bytes.slice(at, at + 256))
      controller.close()
    },
  })
const tokens = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`).join('.')
const SSE = { Accept: 'text/event-stream' }

const rows: [string, Row][] = [
  // Publish bodies
  ['malformed JSON', { ...post('bad.a', '{"data": 1'), status: 400, code: 'bad_request', detail: 'not valid JSON' } as Row],
  ['empty body as JSON', { ...post('bad.a', ''), status: 400, code: 'bad_request' } as Row],
  ['empty JSON array', { ...post('bad.a', '[]'), status: 400, code: 'invalid_body', detail: 'no events' } as Row],
  ['unknown field in event', { ...post('bad.a', '{"data":1,"colour":"red"}'), status: 400, code: 'invalid_body' } as Row],
  ['unknown field in a batch item', { ...post('bad.a', '[{"data":1},{"data":2,"extra":true}]'), status: 400, code: 'invalid_body', detail: '[1]' } as Row],
  ['type is a number', { ...post('bad.a', '{"type":5,"data":1}'), status: 400, code: 'invalid_body', detail: 'type' } as Row],
  ['type has a space', { ...post('bad.a', '{"type":"a b","data":1}'), status: 400, code: 'invalid_body' } as Row],
  ['terminal is a string', { ...post('bad.a', '{"data":1,"terminal":"yes"}'), status: 400, code: 'invalid_body', detail: 'terminal' } as Row],
  ['key is empty', { ...post('bad.a', '{"data":1,"key":""}'), status: 400, code: 'invalid_body' } as Row],
  ['event is not an object', { ...post('bad.a', '42'), status: 400, code: 'invalid_body' } as Row],
  ['terminal not last in the batch', { ...post('bad.a', '[{"data":1,"terminal":true},{"data":2}]'), status: 400, code: 'invalid_body', detail: 'terminal' } as Row],
  ['bad NDJSON line', { ...post('bad.a', '{"data":1}\n{oops}\n', { 'Content-Type': 'application/x-ndjson' }), status: 400, code: 'bad_request', detail: 'line 2' } as Row],
  ['unsupported content type', { ...post('bad.a', '<event/>', { 'Content-Type': 'application/xml' }), status: 415, code: 'unsupported_media_type' } as Row],
  ['oversized body with Content-Length', { ...post('bad.a', JSON.stringify({ data: big })), status: 413, code: 'payload_too_large' } as Row],
  ['oversized body, chunked', { method: 'POST', path: '/v1/streams/bad.a/events', headers: JSON_HEADERS, body: chunked(JSON.stringify({ data: big })), status: 413, code: 'payload_too_large' }],
  ['oversized plain text', { ...post('bad.a', big, { 'Content-Type': 'text/plain' }), status: 413, code: 'payload_too_large' } as Row],
  ['batch over --max-batch', { ...post('bad.a', JSON.stringify(Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ data: i })))), status: 413, code: 'batch_too_large' } as Row],
  ['invalid UTF-8', { method: 'POST', path: '/v1/streams/bad.a/events', headers: { 'Content-Type': 'text/plain' }, body: () => new Uint8Array([0x68, 0xff, 0xfe]), status: 400, code: 'bad_request', detail: 'UTF-8' }],
  // Stream names in paths
  ['empty token in a publish path', { ...post('a..b', '{"data":1}'), status: 400, code: 'bad_name' } as Row],
  ['65-character token', { ...post('x'.repeat(65), '{"data":1}'), status: 400, code: 'bad_name', detail: '1–64' } as Row],
  ['17 tokens', { ...post(tokens(17), '{"data":1}'), status: 400, code: 'bad_name', detail: '16 tokens' } as Row],
  ['star in a publish path', { ...post('jobs.*', '{"data":1}'), status: 400, code: 'bad_name' } as Row],
  ['encoded slash in a publish path', { ...post('a%2Fb', '{"data":1}'), status: 400, code: 'bad_name' } as Row],
  ['malformed percent-encoding in a path', { ...post('a%E0%A4%A', '{"data":1}'), status: 400, code: 'bad_name' } as Row],
  ['bad name on close', { method: 'POST', path: '/v1/streams/a..b/close', status: 400, code: 'bad_name' }],
  ['bad name on poll', { path: '/v1/streams/a..b/events', status: 400, code: 'bad_name' }],
  ['malformed percent-encoding in a poll path', { path: '/v1/streams/a%E0%A4%A/events', status: 400, code: 'bad_name' }],
  // Patterns and query values
  ['double star not last', { path: '/v1/events?stream=a.**.b', status: 400, code: 'bad_pattern', detail: 'last token' }],
  ['empty stream', { path: '/v1/events?stream=', status: 400, code: 'invalid_request', detail: 'stream must be 1–64 items, got an empty list.' }],
  ['no stream at all', { path: '/v1/events', status: 400, code: 'invalid_request', detail: 'stream is required.' }],
  ['65 streams', { path: `/v1/events?stream=${Array.from({ length: 65 }, (_, i) => `s.${i}`).join(',')}`, status: 400, code: 'invalid_request', detail: 'stream must be 1–64 items, got a list of 65.' }],
  ['bad pattern over SSE', { path: '/v1/events?stream=team.**.x', headers: SSE, status: 400, code: 'bad_pattern' }],
  ['limit 1001', { path: '/v1/streams/kept.open/events?limit=1001', status: 400, code: 'invalid_request', detail: 'limit must be 1–1000, got 1001.' }],
  ['limit 1001 on /v1/events', { path: '/v1/events?stream=kept.open&limit=1001', status: 400, code: 'invalid_request', detail: 'limit must be 1–1000, got 1001.' }],
  ['limit 0', { path: '/v1/streams/kept.open/events?limit=0', status: 400, code: 'invalid_request', detail: 'limit must be 1–1000, got 0.' }],
  ['limit twice', { path: '/v1/streams/kept.open/events?limit=5&limit=6', status: 400, code: 'invalid_request', detail: 'limit is given more than once.' }],
  ['wait 61', { path: '/v1/streams/kept.open/events?wait=61', status: 400, code: 'invalid_request', detail: 'wait must be 0–60, got 61.' }],
  ['wait 100000', { path: '/v1/streams/kept.open/events?wait=100000', status: 400, code: 'invalid_request', detail: 'wait must be 0–60, got 100000.' }],
  ['after -1', { path: '/v1/streams/kept.open/events?after=-1', status: 400, code: 'invalid_request', detail: 'after must be ≥ 0, got -1.' }],
  ['after -5', { path: '/v1/streams/kept.open/events?after=-5', status: 400, code: 'invalid_request', detail: 'after must be ≥ 0, got -5.' }],
  ['after -1 on /v1/events', { path: '/v1/events?stream=kept.open&after=-1', status: 400, code: 'invalid_request', detail: 'after must be ≥ 0, got -1.' }],
  ['after abc', { path: '/v1/streams/kept.open/events?after=abc', status: 400, code: 'invalid_request', detail: 'after must be an integer ≥ 0, got "abc".' }],
  ['after 1.5', { path: '/v1/streams/kept.open/events?after=1.5', status: 400, code: 'invalid_request', detail: 'after must be an integer ≥ 0, got "1.5".' }],
  ['after empty', { path: '/v1/streams/kept.open/events?after=', status: 400, code: 'invalid_request', detail: 'after must be an integer ≥ 0, got "".' }],
  ['after abc on /v1/events', { path: '/v1/events?stream=kept.*&after=abc', status: 400, code: 'invalid_request', detail: 'after must be an integer' }],
  ['since not a time', { path: '/v1/streams/kept.open/events?since=yesterday', status: 400, code: 'bad_request', detail: 'since' }],
  ['type with a space', { path: '/v1/streams/kept.open/events?types=a%20b', status: 400, code: 'invalid_request', detail: 'types[0] must be an event type (1–128 characters, no spaces), got "a b".' }],
  ['correlationId empty', { path: '/v1/streams/kept.open/events?correlationId=', status: 400, code: 'invalid_request', detail: 'correlationId must be 1–256 characters, got "".' }],
  ['Last-Event-ID not an id', { path: '/v1/streams/kept.open/events', headers: { ...SSE, 'Last-Event-ID': 'abc' }, status: 400, code: 'bad_request', detail: 'Last-Event-ID' }],
  ['Last-Event-ID negative', { path: '/v1/streams/kept.open/events', headers: { ...SSE, 'Last-Event-ID': '-3' }, status: 400, code: 'bad_request', detail: 'Last-Event-ID' }],
  ['heartbeat 0', { path: '/v1/streams/kept.open/events?heartbeat=0', headers: SSE, status: 400, code: 'invalid_request', detail: 'heartbeat must be 1–300, got 0.' }],
  ['heartbeat 0 when polling', { path: '/v1/events?stream=kept.open&heartbeat=0', status: 400, code: 'invalid_request', detail: 'heartbeat must be 1–300, got 0.' }],
  ['heartbeat 301', { path: '/v1/streams/kept.open/events?heartbeat=301', headers: SSE, status: 400, code: 'invalid_request', detail: 'heartbeat must be 1–300, got 301.' }],
  ['slow=maybe', { path: '/v1/streams/kept.open/events?slow=maybe', headers: SSE, status: 400, code: 'invalid_request', detail: 'slow must be one of close, drop, got "maybe".' }],
  ['bad pattern filter on the stream list', { path: '/v1/streams?pattern=a.**.b', status: 400, code: 'bad_pattern' }],
  // Stream configuration
  ['PUT with an unknown field', { method: 'PUT', path: '/v1/streams/cfg.x', headers: JSON_HEADERS, body: '{"ringSize":8,"colour":"red"}', status: 400, code: 'invalid_request', detail: 'colour is not a known field' }],
  ['PUT ringSize 0', { method: 'PUT', path: '/v1/streams/cfg.x', headers: JSON_HEADERS, body: '{"ringSize":0}', status: 400, code: 'invalid_request', detail: 'ringSize must be 1–1000000, got 0.' }],
  ['PUT ringSize as a numeric string', { method: 'PUT', path: '/v1/streams/cfg.x', headers: JSON_HEADERS, body: '{"ringSize":"8"}', status: 400, code: 'invalid_request', detail: 'ringSize must be an integer 1–1000000, got "8".' }],
  ['PUT ephemeral as a string', { method: 'PUT', path: '/v1/streams/cfg.x', headers: JSON_HEADERS, body: '{"ephemeral":"yes"}', status: 400, code: 'invalid_request', detail: 'ephemeral must be true or false, got "yes".' }],
  ['ticket ttl as a string past the bound', { method: 'POST', path: '/v1/tickets', headers: JSON_HEADERS, body: '{"subscribe":["a.b"],"ttl":"9999"}', status: 400, code: 'invalid_request', detail: 'ttl must be an integer 1–600, got "9999".' }],
  ['ticket ttl past the bound', { method: 'POST', path: '/v1/tickets', headers: JSON_HEADERS, body: '{"subscribe":["a.b"],"ttl":601}', status: 400, code: 'invalid_request', detail: 'ttl must be 1–600, got 601.' }],
  ['group ack ids not integers', { method: 'POST', path: '/v1/groups/g1/ack', headers: JSON_HEADERS, body: '{"ids":[1,"x"]}', status: 400, code: 'invalid_request', detail: 'ids[1] must be an integer ≥ 1, got "x".' }],
  ['group claim max 0', { method: 'POST', path: '/v1/groups/g1/claim', headers: JSON_HEADERS, body: '{"consumer":"w","max":0}', status: 400, code: 'invalid_request', detail: 'max must be 1–1000, got 0.' }],
  ['group claim without consumer', { method: 'POST', path: '/v1/groups/g1/claim', headers: JSON_HEADERS, body: '{"max":1}', status: 400, code: 'invalid_request', detail: 'consumer is required.' }],
  ['group PUT ackTimeout too large', { method: 'PUT', path: '/v1/groups/g1', headers: JSON_HEADERS, body: '{"streams":["a.*"],"ackTimeout":100000}', status: 400, code: 'invalid_request', detail: 'ackTimeout must be 0.1–86400, got 100000.' }],
  ['wrong method', { method: 'PATCH', path: '/v1/streams/cfg.x', status: 405, code: 'method_not_allowed', detail: 'PATCH is not allowed here.' }],
  ['PUT malformed JSON', { method: 'PUT', path: '/v1/streams/cfg.x', headers: JSON_HEADERS, body: '{"ringSize":', status: 400, code: 'bad_request' }],
  ['PUT bad name', { method: 'PUT', path: '/v1/streams/a..b', headers: JSON_HEADERS, body: '{"ringSize":8}', status: 400, code: 'bad_name' }],
  // Not found and conflict
  ['unknown route', { path: '/v1/nothing-here', status: 404, code: 'not_found' }],
  ['GET unknown stream', { path: '/v1/streams/never.seen', status: 404, code: 'not_found' }],
  ['DELETE unknown stream', { method: 'DELETE', path: '/v1/streams/never.seen', status: 404, code: 'not_found' }],
  ['unknown connection', { path: '/v1/connections/sse-nope', status: 404, code: 'not_found' }],
  ['publish to a closed stream', { ...post('kept.closed', '{"data":2}'), status: 409, code: 'stream_closed' } as Row],
]

describe.each(TARGETS)('%s', (kind) => {
  let server: Target
  let closedId: number
  beforeAll(async () => {
    server = await startTarget(kind, { 'max-payload': String(MAX_PAYLOAD), 'max-batch': String(MAX_BATCH) })
    const res = await publish(server.url, 'kept.closed', { type: 'done', data: 1 })
    closedId = res.body.id
    expect((await fetch(`${server.url}/v1/streams/kept.closed/close`, { method: 'POST' })).status).toBe(200)
    expect((await publish(server.url, 'kept.open', { data: 'hello' })).status).toBe(201)
  })
  afterAll(() => server?.close())

  test.each(rows)('bad input gets a 4xx problem+json: %s', async (_, row) => {
    const body = typeof row.body === 'function' ? row.body() : row.body
    const res = await fetch(`${server.url}${row.path}`, { method: row.method ?? 'GET', headers: row.headers, body, duplex: 'half' } as RequestInit)
    const text = await res.text()
    expect({ status: res.status, text }).toMatchObject({ status: row.status })
    expect(res.headers.get('content-type')).toStartWith('application/problem+json')
    const problem = JSON.parse(text)
    expect(problem.status).toBe(row.status)
    expect(problem.code).toBe(row.code)
    expect(typeof problem.detail).toBe('string')
    expect(problem.detail.length).toBeGreaterThan(0)
    expect(typeof problem.title).toBe('string')
    if (row.detail) expect(problem.detail).toContain(row.detail)
    if (row.status === 405) expect(res.headers.get('allow')).toBe('DELETE, GET, PUT')
  })

  test('after the bad input, the server still answers', async () => {
    const res = await fetch(`${server.url}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect((await publish(server.url, 'kept.open', { data: 'still works' })).status).toBe(201)
  })

  test('after the bad input, nothing from the rejected rows was stored', async () => {
    const { streams } = (await (await fetch(`${server.url}/v1/streams`)).json()) as { streams: { stream: string; events: number; lastId: number }[] }
    expect(streams.map((s) => s.stream)).toEqual(['kept.closed', 'kept.open'])
    const closed = streams.find((s) => s.stream === 'kept.closed')!
    expect(closed.events).toBe(1)
    expect(closed.lastId).toBe(closedId)
    const page = (await (await fetch(`${server.url}/v1/events?stream=**&after=0`)).json()) as any
    expect(page.events.map((e: { data: unknown }) => e.data)).toEqual([1, 'hello', 'still works'])
  })
})
