import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Ringcast, RingcastError } from '../../src/client'
import { exportNdjson } from '../helpers/binary'
import { Restartable } from './support'

/**
 * Publishing with the client against the compiled binary: a retry after a lost answer, across a
 * restart too, stores nothing twice; 429 waits for Retry-After; a refusal is not retried.
 */

const server = new Restartable()
const limited = new Restartable(['--publish-rate', '1'])
let proxy: Server
let proxyUrl: string
let posts = 0
/** What the proxy answers to the next POST, once the server has stored the event. */
let spoil: ((res: ServerResponse) => Promise<void>) | undefined

beforeAll(async () => {
  await Promise.all([server.start(), limited.start()])
  // Between client and server: forwards everything, but may spoil the answer to a POST the server has committed.
  proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<string, string>
    const body = req.method === 'POST' ? Buffer.concat(chunks) : undefined
    const stored = await fetch(`${server.url}${req.url}`, { method: req.method, headers, body })
    const text = await stored.text()
    if (req.method === 'POST') posts++
    const spoiler = req.method === 'POST' ? spoil : undefined
    spoil = undefined
    if (spoiler) return spoiler(res)
    res.writeHead(stored.status, { 'Content-Type': stored.headers.get('content-type') ?? 'text/plain' }).end(text)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})

afterAll(async () => {
  proxy?.close()
  await Promise.all([server.dispose(), limited.dispose()])
})

const client = (url: string) => new Ringcast({ url, backoff: { minMs: 20, maxMs: 200 } })

test.each([
  ['a 503 after the commit', async (res: ServerResponse) => void res.writeHead(503).end('busy')],
  ['a connection cut after the commit', async (res: ServerResponse) => {
    res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': '100' }).write('{"id":')
    res.destroy()
  }],
  ['a server restarted between the commit and the answer', async (res: ServerResponse) => {
    await server.restart()
    res.writeHead(502).end()
  }],
])('%s: the retry is a dedup hit, and the event is stored once', async (_, spoiler) => {
  const stream = `once.${posts}`
  const rc = client(proxyUrl)
  spoil = spoiler
  const before = posts
  const single = await rc.publish(stream, { type: 'job', data: { n: 1 } })
  expect(posts - before).toBe(2)
  expect(single).toMatchObject({ stream, type: 'job', data: { n: 1 }, duplicate: true })
  spoil = spoiler
  const batch = await rc.publish(stream, [{ data: 2 }, { data: 3, key: 'own-key' }])
  expect(batch.map((e) => [e.data, e.duplicate])).toEqual([
    [2, true],
    [3, true],
  ])
  expect(batch[1].key).toBe('own-key')
  const stored = await exportNdjson(server.url, [stream])
  expect(stored.map((e) => e.data)).toEqual([{ n: 1 }, 2, 3])
  expect(stored.map((e) => e.id)).toEqual([single.id, batch[0].id, batch[1].id])
})

test('a publish while the server is down is retried until it is back', async () => {
  const rc = client(server.url)
  await server.crash()
  const pending = rc.publish('down.1', { data: 'while down' })
  await server.start()
  const stored = await pending
  expect(stored.duplicate).toBeUndefined()
  expect((await exportNdjson(server.url, ['down.1'])).map((e) => e.id)).toEqual([stored.id])
})

test('429: the retry waits for Retry-After', async () => {
  const rc = client(limited.url)
  await rc.publish('rate.1', { data: 1 })
  const started = performance.now()
  const second = await rc.publish('rate.1', { data: 2 })
  expect(performance.now() - started).toBeGreaterThan(900)
  expect((await exportNdjson(limited.url, ['rate.1'])).map((e) => e.id)).toEqual([second.id - 1, second.id])
})

test('a refusal (409, closed stream) is not retried', async () => {
  const rc = client(proxyUrl)
  await rc.publish('closed.1', { data: 'last', terminal: true })
  const before = posts
  const error = await rc.publish('closed.1', { data: 'late' }).catch((e) => e)
  expect(error).toBeInstanceOf(RingcastError)
  expect(error).toMatchObject({ status: 409, code: 'stream_closed' })
  expect(posts - before).toBe(1)
})
