import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SseClient } from '../helpers/sse-client'
import { publish, startTestServer, type TestServer } from '../helpers/start-server'
import { WsTestClient } from '../helpers/ws-client'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.close())

const get = async (path: string): Promise<{ status: number; headers: Headers; body: any }> => {
  const res = await fetch(`${server.url}${path}`)
  return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() }
}
const put = async (path: string, body: unknown): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${server.url}${path}`, { method: 'PUT', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } })
  return { status: res.status, body: await res.json() }
}
const del = async (path: string) => (await fetch(`${server.url}${path}`, { method: 'DELETE' })).status

describe('streams', () => {
  test('GET /v1/streams lists every stream with its stats, sorted, and filters by pattern', async () => {
    const a = await publish(server.url, 'list.a', [{ data: 1 }, { data: 2 }])
    const b = await publish(server.url, 'list.b.x', { data: 3 })
    const { status, body } = await get('/v1/streams?pattern=list.**')
    expect(status).toBe(200)
    expect(body.streams).toEqual([
      { stream: 'list.a', events: 2, firstId: a.body[0].id, lastId: a.body[1].id, closed: false, ephemeral: false, ringSize: 1024, maxEvents: 10_000, maxAgeSeconds: 604_800, subscribers: 0, eventsPerSecond: expect.any(Number) },
      { stream: 'list.b.x', events: 1, firstId: b.body.id, lastId: b.body.id, closed: false, ephemeral: false, ringSize: 1024, maxEvents: 10_000, maxAgeSeconds: 604_800, subscribers: 0, eventsPerSecond: expect.any(Number) },
    ])
    expect(body.total).toBe(2)
    expect(body.next).toBeNull()
    expect((await get('/v1/streams?pattern=list.*')).body.streams.map((s: { stream: string }) => s.stream)).toEqual(['list.a'])
    const all = (await get('/v1/streams')).body.streams.map((s: { stream: string }) => s.stream)
    expect(all).toContain('list.a')
    expect(all).toContain('list.b.x')
  })

  test('GET /v1/streams pages by name: limit, next as after, total over all pages', async () => {
    for (const name of ['page.c', 'page.a', 'page.e', 'page.b', 'page.d']) await publish(server.url, name, { data: name })
    const first = (await get('/v1/streams?pattern=page.*&limit=2')).body
    expect(first.streams.map((s: { stream: string }) => s.stream)).toEqual(['page.a', 'page.b'])
    expect([first.total, first.next]).toEqual([5, 'page.b'])
    const second = (await get(`/v1/streams?pattern=page.*&limit=2&after=${first.next}`)).body
    expect(second.streams.map((s: { stream: string }) => s.stream)).toEqual(['page.c', 'page.d'])
    const last = (await get(`/v1/streams?pattern=page.*&limit=2&after=${second.next}`)).body
    expect(last.streams.map((s: { stream: string }) => s.stream)).toEqual(['page.e'])
    expect(last.next).toBeNull()
  })

  test('PUT configures (creating the stream) and GET reflects every setting', async () => {
    const created = await put('/v1/streams/cfg.1', { ringSize: 8, maxEvents: 50, maxAgeSeconds: 3600 })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({ stream: 'cfg.1', events: 0, firstId: null, lastId: null, ringSize: 8, maxEvents: 50, maxAgeSeconds: 3600, ephemeral: false, closed: false })
    expect((await get('/v1/streams/cfg.1')).body).toEqual(created.body)
    // A partial PUT changes only what it names.
    const eph = await put('/v1/streams/cfg.1', { ephemeral: true })
    expect(eph.body).toMatchObject({ ringSize: 8, maxEvents: 50, maxAgeSeconds: 3600, ephemeral: true })
    // An ephemeral stream's events are counted but live only in its ring.
    const p = await publish(server.url, 'cfg.1', { data: 'e' })
    expect(p.status).toBe(201)
    expect((await get('/v1/streams/cfg.1')).body).toMatchObject({ events: 1, firstId: p.body.id, lastId: p.body.id, ephemeral: true })
  })

  test('a ring-size change takes effect on the stream', async () => {
    await put('/v1/streams/cfg.2', { ringSize: 2 })
    const r = await publish(server.url, 'cfg.2', [{ data: 1 }, { data: 2 }, { data: 3 }])
    expect((await get('/v1/streams/cfg.2')).body).toMatchObject({ ringSize: 2, events: 3 })
    // All three are still replayable (from the log, past the ring).
    const page = (await get('/v1/streams/cfg.2/events?after=0')).body
    expect(page.events.map((e: { id: number }) => e.id)).toEqual(r.body.map((e: { id: number }) => e.id))
    expect((await put('/v1/streams/cfg.2', { ringSize: 16 })).body.ringSize).toBe(16)
  })

  test('subscribers are counted', async () => {
    const sse = SseClient.open(`${server.url}/v1/streams/sub.count/events`)
    await sse.until((f) => f.comments.includes('ringcast'))
    await publish(server.url, 'sub.count', { data: 1 })
    expect((await get('/v1/streams/sub.count')).body.subscribers).toBe(1)
    sse.close()
    await sse.ended
  })

  test('DELETE removes the stream and its history; ids keep increasing after it', async () => {
    const first = await publish(server.url, 'gone.1', [{ data: 1 }, { data: 2 }])
    expect(await del('/v1/streams/gone.1')).toBe(204)
    const after = await get('/v1/streams/gone.1')
    expect(after.status).toBe(404)
    expect(after.body.code).toBe('not_found')
    expect(await del('/v1/streams/gone.1')).toBe(404)
    const page = (await get('/v1/streams/gone.1/events?after=0')).body
    expect(page.events).toEqual([])
    const again = await publish(server.url, 'gone.1', { data: 3 })
    expect(again.status).toBe(201)
    expect(again.body.id).toBeGreaterThan(first.body[1].id)
    expect((await get('/v1/streams/gone.1')).body).toMatchObject({ events: 1, firstId: again.body.id })
  })

  test('DELETE ends an SSE subscription naming the stream', async () => {
    await publish(server.url, 'gone.2', { data: 1 })
    const sse = SseClient.open(`${server.url}/v1/streams/gone.2/events`)
    await sse.until((f) => f.comments.includes('ringcast'))
    expect(await del('/v1/streams/gone.2')).toBe(204)
    await sse.until((f) => f.event === 'end')
    await sse.ended
    expect(sse.isEnded).toBe(true)
  })
})

describe('connections', () => {
  test('lists a live SSE and a WebSocket connection; DELETE ends each', async () => {
    const sse = SseClient.open(`${server.url}/v1/events?stream=conn.*&stream=other.1`)
    await sse.until((f) => f.comments.includes('ringcast'))
    const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws`)
    ws.send({ op: 'subscribe', sub: 's1', streams: ['conn.**'] })
    await ws.next((m) => m.op === 'ok' && m.sub === 's1')

    const published = await publish(server.url, 'conn.1', { data: 'x' })
    await sse.next()
    await ws.events(1)

    const { status, body } = await get('/v1/connections')
    expect(status).toBe(200)
    const sseInfo = body.connections.find((c: { transport: string }) => c.transport === 'sse')
    const wsInfo = body.connections.find((c: { transport: string }) => c.transport === 'ws')
    expect(sseInfo).toMatchObject({ transport: 'sse', remote: '127.0.0.1', delivered: 1 })
    expect([...sseInfo.patterns].sort()).toEqual(['conn.*', 'other.1'])
    expect(wsInfo).toMatchObject({ transport: 'ws', patterns: ['conn.**'], delivered: 1 })
    for (const c of [sseInfo, wsInfo]) {
      expect(typeof c.id).toBe('string')
      expect(typeof c.bufferedBytes).toBe('number')
      expect(Date.parse(c.connectedAt)).not.toBeNaN()
      expect(Date.parse(c.lastEventTime)).toBeGreaterThanOrEqual(Date.parse(published.body.time) - 1000)
    }
    expect((await get(`/v1/connections/${sseInfo.id}`)).body.id).toBe(sseInfo.id)

    const metrics = (await get('/metrics')).body as string
    expect(metrics).toMatch(/^ringcast_connections\{transport="sse"\} [1-9]/m)
    expect(metrics).toMatch(/^ringcast_connections\{transport="ws"\} [1-9]/m)

    expect(await del(`/v1/connections/${sseInfo.id}`)).toBe(204)
    await sse.ended
    expect(sse.isEnded).toBe(true)
    expect(await del(`/v1/connections/${wsInfo.id}`)).toBe(204)
    await ws.closed
    expect(ws.closeCode).toBe(4000)

    const left = (await get('/v1/connections')).body.connections.map((c: { id: string }) => c.id)
    expect(left).not.toContain(sseInfo.id)
    expect(left).not.toContain(wsInfo.id)
    expect(await del(`/v1/connections/${sseInfo.id}`)).toBe(404)
  })
})

describe('operations', () => {
  test('/healthz and /readyz', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', problems: [] } })
  })

  test('/metrics is Prometheus text with the documented names', async () => {
    await publish(server.url, 'metrics.1', { data: 1 })
    const { status, headers, body } = await get('/metrics')
    expect(status).toBe(200)
    expect(headers.get('content-type')).toStartWith('text/plain')
    const text = body as string
    expect(text).toMatch(/^ringcast_events_published_total [1-9]\d*$/m)
    expect(text).toMatch(/^ringcast_connections\{transport="sse"\} \d+$/m)
    expect(text).toMatch(/^ringcast_commit_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m)
    expect(text).toMatch(/^ringcast_commit_seconds_bucket\{le="0\.001"\} \d+$/m)
    expect(text).toMatch(/^ringcast_limit\{limit="max_payload_bytes"\} 1048576$/m)
    expect(text).toContain('# TYPE ringcast_commit_seconds histogram')
    // Every sample line is `name{labels} number`.
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^ringcast_[a-z_]+(\{[^}]*\})? -?[\d.e+-]+$/)
  })
})

describe('docs', () => {
  test('/docs is HTML that loads only local assets, and they answer', async () => {
    const res = await fetch(`${server.url}/docs`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    const urls = [...html.matchAll(/<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1])
    expect(urls.length).toBeGreaterThanOrEqual(2)
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i)
    expect(html).not.toMatch(/@import|unpkg|jsdelivr|cdnjs/i)
    for (const url of urls) {
      const asset = await fetch(new URL(url, `${server.url}/docs`))
      expect({ url, status: asset.status }).toEqual({ url, status: 200 })
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000)
    }
  })

  test.each(['/docs', '/docs/'])('the spec URL the page at %s hands Swagger UI resolves to the OpenAPI document', async (page) => {
    const html = await (await fetch(`${server.url}${page}`)).text()
    const spec = html.match(/"url"\s*:\s*"([^"]+)"/)
    expect(spec).not.toBeNull()
    const res = await fetch(new URL(spec![1], `${server.url}${page}`))
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).openapi).toStartWith('3.')
  })

  test('/docs/json is OpenAPI 3 and covers every route', async () => {
    const { status, body } = await get('/docs/json')
    expect(status).toBe(200)
    expect(body.openapi).toStartWith('3.')
    const paths = Object.keys(body.paths)
    for (const path of [
      '/v1/streams/{stream}/events',
      '/v1/events',
      '/v1/ws',
      '/v1/streams',
      '/v1/streams/{stream}',
      '/v1/streams/{stream}/close',
      '/v1/connections',
      '/v1/connections/{id}',
      '/healthz',
      '/readyz',
      '/metrics',
    ]) {
      expect(paths).toContain(path)
    }
    expect(Object.keys(body.paths['/v1/streams/{stream}/events'])).toEqual(expect.arrayContaining(['get', 'post']))
    expect(Object.keys(body.paths['/v1/streams/{stream}'])).toEqual(expect.arrayContaining(['get', 'put', 'delete']))
    // Asset routes are not part of the API.
    expect(paths.some((p) => p.startsWith('/docs'))).toBe(false)
  })
})
