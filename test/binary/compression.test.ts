import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from 'node:zlib'
import { type BinaryServer, post, requireBinary, startBinary } from '../helpers/binary'
import { RawSseClient, RawWsClient, rawGet } from '../helpers/raw-clients'

// Compression on the wire, against the compiled binary over raw sockets: nothing here decompresses
// for the test but the test itself. Default --compression http; `all` adds WebSocket permessage-deflate.

let server: BinaryServer
let all: BinaryServer
let off: BinaryServer
beforeAll(async () => {
  requireBinary()
  ;[server, all, off] = await Promise.all([startBinary(), startBinary({ args: ['--compression', 'all'] }), startBinary({ args: ['--compression', 'off'] })])
})
afterAll(async () => {
  await Promise.all([server, all, off].map((s) => s?.dispose()))
})

// Events of one stream look alike (a CI job's log lines): what compression feeds on.
const logLine = (n: number) => ({ step: n, line: `2026-11-22T04:00:${String(n % 60).padStart(2, '0')}Z compiling module ${n} of 40 (src/core/ring.ts) ok; `.repeat(4) })
const GZIP = { 'Accept-Encoding': 'gzip' }

/** Publishes `count` log events in one batch; their ids. */
async function publishLines(url: string, stream: string, count: number): Promise<number[]> {
  const { status, body } = await post(url, stream, Array.from({ length: count }, (_, i) => ({ type: 'log', data: logLine(i) })))
  expect(status).toBe(201)
  return body.map((e: { id: number }) => e.id)
}

describe('SSE with Accept-Encoding: gzip', () => {
  test('is gzip, each event readable before the next is published, and the stream a valid gzip member when it ends', async () => {
    const sse = await RawSseClient.open(server.port, '/v1/streams/gz.live/events', GZIP)
    try {
      expect(sse.head).toMatch(/\r\ncontent-encoding: gzip\r\n/i)
      expect(sse.head).toMatch(/\r\nvary: accept-encoding\r\n/i)
      for (let n = 1; n <= 6; n++) {
        const { body } = await post(server.url, 'gz.live', { type: 'log', data: logLine(n) })
        await sse.until(() => sse.body.includes(`id: ${body.id}\n`), 5000, `event ${n} decompressed`)
      }
      expect((await fetch(`${server.url}/v1/streams/gz.live/close`, { method: 'POST' })).status).toBe(200)
      await sse.ended()
      expect(sse.gzipError).toBeUndefined()
      expect(sse.body).toEndWith('event: end\ndata: {"reason":"closed"}\n\n')
      // The whole body at once too: header, every flushed block, the final block and a trailer whose CRC matches.
      const compressed = Buffer.concat(sse.compressed)
      expect(gunzipSync(compressed).toString()).toBe(sse.body)
      // Each event is compressed against the one before it, so alike events shrink well.
      expect(compressed.length).toBeLessThan(Buffer.byteLength(sse.body) / 3)
    } finally {
      sse.destroy()
    }
  })

  test('a replay, a late joiner and heartbeats between events still decode, in order, for every subscriber', async () => {
    const ids = await publishLines(server.url, 'gz.mixed', 3)
    const early = await RawSseClient.open(server.port, '/v1/streams/gz.mixed/events?after=0&heartbeat=1', GZIP)
    const late = await RawSseClient.open(server.port, `/v1/streams/gz.mixed/events?after=${ids[1]}`, GZIP)
    try {
      await early.until(() => early.body.includes(`id: ${ids[2]}\n`), 5000, 'replay')
      ids.push((await post(server.url, 'gz.mixed', { type: 'log', data: logLine(4) })).body.id)
      await early.until(() => early.body.includes(': hb\n'), 5000, 'a heartbeat')
      ids.push((await post(server.url, 'gz.mixed', { type: 'log', data: logLine(5) })).body.id)
      await fetch(`${server.url}/v1/streams/gz.mixed/close`, { method: 'POST' })
      await Promise.all([early.ended(), late.ended()])
      for (const [client, first] of [[early, ids[0]], [late, ids[2]]] as const) {
        expect(client.gzipError).toBeUndefined()
        const received = [...client.body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
        expect(received).toEqual(ids.filter((id) => id >= first))
        expect(gunzipSync(Buffer.concat(client.compressed)).toString()).toBe(client.body)
      }
    } finally {
      early.destroy()
      late.destroy()
    }
  })

  test('without gzip among what the client accepts, or with --compression off, the stream is plain text', async () => {
    const cases: [BinaryServer, Record<string, string>][] = [
      [server, {}],
      [server, { 'Accept-Encoding': 'br, zstd' }],
      [server, { 'Accept-Encoding': 'gzip;q=0, br' }],
      [off, GZIP],
    ]
    for (const [target, headers] of cases) {
      const sse = await RawSseClient.open(target.port, '/v1/streams/gz.plain/events', headers)
      expect(sse.head).not.toMatch(/content-encoding/i)
      expect(sse.body).toStartWith('retry: ')
      sse.destroy()
    }
  })
})

describe('polling pages and exports', () => {
  const decompress = { gzip: gunzipSync, br: brotliDecompressSync, zstd: zstdDecompressSync }
  let ids: number[]
  beforeAll(async () => {
    ids = await publishLines(server.url, 'gz.poll', 30)
  })

  test('a page of 1 KB or more comes in the coding the client weights highest, and decompresses to the plain page', async () => {
    const path = '/v1/streams/gz.poll/events?after=0'
    const plain = await rawGet(server.port, path)
    expect(plain.head).not.toMatch(/content-encoding/i)
    expect(plain.head).toMatch(/\r\nvary: accept-encoding\r\n/i)
    const rows: [string, keyof typeof decompress][] = [
      ['gzip', 'gzip'],
      ['br', 'br'],
      ['zstd', 'zstd'],
      ['gzip, deflate, br, zstd', 'zstd'],
      ['gzip;q=0.5, br', 'br'],
      ['br;q=0, gzip', 'gzip'],
      ['*', 'zstd'],
    ]
    for (const [accept, coding] of rows) {
      const answer = await rawGet(server.port, path, { 'Accept-Encoding': accept })
      expect(answer.head).toMatch(new RegExp(`\\r\\ncontent-encoding: ${coding}\\r\\n`, 'i'))
      expect(answer.body.length).toBeLessThan(plain.body.length / 3)
      expect(decompress[coding](answer.body).toString()).toBe(plain.body.toString())
    }
  })

  test('a page under 1 KB, identity, or --compression off: sent as it is', async () => {
    const small = await rawGet(server.port, `/v1/streams/gz.poll/events?after=${ids[28]}`, GZIP)
    expect(small.head).not.toMatch(/content-encoding/i)
    expect(JSON.parse(small.body.toString()).events).toHaveLength(1)
    for (const [target, accept] of [[server, 'identity'], [off, 'gzip']] as const) {
      const page = await rawGet(target.port, '/v1/streams/gz.poll/events?after=0', { 'Accept-Encoding': accept })
      expect(page.head).not.toMatch(/content-encoding/i)
    }
    expect((await rawGet(off.port, '/v1/streams/gz.poll/events?after=0')).head).not.toMatch(/vary/i)
  })

  test('an NDJSON export is compressed as it streams; a small one is not', async () => {
    const headers = { Accept: 'application/x-ndjson', 'Accept-Encoding': 'gzip' }
    const big = await rawGet(server.port, '/v1/streams/gz.poll/events?after=0', headers)
    expect(big.head).toMatch(/\r\ncontent-encoding: gzip\r\n/i)
    const lines = gunzipSync(big.body).toString().trim().split('\n').map((line) => JSON.parse(line))
    expect(lines.map((e) => e.id)).toEqual(ids)
    expect(lines[29].data).toEqual(logLine(29))
    const small = await rawGet(server.port, `/v1/streams/gz.poll/events?after=${ids[28]}`, headers)
    expect(small.head).not.toMatch(/content-encoding/i)
    expect(JSON.parse(small.body.toString()).id).toBe(ids[29])
  })
})

describe('WebSocket permessage-deflate', () => {
  const OFFER = 'permessage-deflate; client_max_window_bits'

  test('by default it is not negotiated: deflating per socket costs CPU for every delivery (README, Performance)', async () => {
    const ws = await RawWsClient.open(server.port, OFFER)
    expect(ws.head).not.toMatch(/sec-websocket-extensions/i)
    ws.destroy()
  })

  test('with --compression all it is, and messages go both ways compressed: 1 KB and more deflated, small ones plain', async () => {
    const ws = await RawWsClient.open(all.port, OFFER)
    try {
      expect(ws.head).toMatch(/\r\nsec-websocket-extensions: permessage-deflate[^\r]*\r\n/i)
      ws.send({ op: 'subscribe', sub: 's', streams: ['gz.ws'] })
      await ws.until(() => ws.messages().some((m) => m.op === 'ok' && m.sub === 's'), 5000, 'subscribed')
      // A publish sent compressed (RSV1): the server inflates it, answers, and fans the event out deflated.
      const data = [1, 2, 3, 4, 5].map(logLine) // about 2 KB
      ws.send({ op: 'publish', ref: 'r1', stream: 'gz.ws', type: 'log', data }, true)
      await ws.until(() => ws.messages().some((m) => m.op === 'event') && ws.messages().some((m) => m.ref === 'r1'), 5000, 'the event and the answer')
      const ok = ws.frames.find((f) => RawWsClient.text(f).includes('"ref":"r1"'))!
      expect(JSON.parse(RawWsClient.text(ok))).toMatchObject({ op: 'ok', ref: 'r1' })
      expect(ok.isCompressed).toBe(false)
      const event = ws.frames.find((f) => RawWsClient.text(f).startsWith('{"op":"event"'))!
      expect(event.isCompressed).toBe(true)
      expect(event.payload.length).toBeLessThan(RawWsClient.text(event).length / 2)
      expect(JSON.parse(RawWsClient.text(event)).event).toMatchObject({ stream: 'gz.ws', type: 'log', data })
    } finally {
      ws.destroy()
    }
  })

  test('with --compression all, a client that does not offer it gets plain frames', async () => {
    const ws = await RawWsClient.open(all.port)
    try {
      expect(ws.head).not.toMatch(/sec-websocket-extensions/i)
      ws.send({ op: 'subscribe', sub: 's', streams: ['gz.ws2'] })
      await ws.until(() => ws.messages().some((m) => m.op === 'ok'), 5000, 'subscribed')
      await post(all.url, 'gz.ws2', { type: 'log', data: logLine(2) })
      await ws.until(() => ws.messages().some((m) => m.op === 'event'), 5000, 'the event')
      expect(ws.frames.every((f) => !f.isCompressed)).toBe(true)
    } finally {
      ws.destroy()
    }
  })
})
