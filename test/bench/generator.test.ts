import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { TCPSocketListener } from 'bun'
import { HttpConnection } from '../../bench/gen/http-conn'
import { SseParser } from '../../bench/gen/sse-parser'

// The bench's loss and duplicate counts are only as good as the generator's parsers.

const chunk = (body: string) => `${body.length.toString(16)}\r\n${body}\r\n`
const STREAM = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
    chunk('retry: 1000\n: ringcast\n\n') +
    chunk('id: 1\nevent: b\ndata: {"s":0,"q":1,"t":1}\n\nid: 2\ndata: x\ndata: y\n\n') +
    chunk('id: 3\r\nevent: gap\r\ndata: {"after":1}\r\n\r\n') +
    chunk(': hb\n\n') +
    chunk('id: 4\ndata:no-space\n\n'),
  'latin1',
)
const EXPECTED = ['head 200', 'b|{"s":0,"q":1,"t":1}|1', 'message|x\ny|2', 'gap|{"after":1}|3', 'message|no-space|4']

function parse(pieces: Uint8Array[]): string[] {
  const seen: string[] = []
  const parser = new SseParser({ head: (status) => seen.push(`head ${status}`), event: (type, data, id) => seen.push(`${type}|${data}|${id}`) })
  for (const p of pieces) parser.feed(p)
  return seen
}

describe('SseParser', () => {
  test('reads chunked SSE in one piece', () => {
    expect(parse([STREAM])).toEqual(EXPECTED)
  })

  test('gives the same events however the bytes are cut', () => {
    const bytewise = Array.from({ length: STREAM.length }, (_, i) => STREAM.subarray(i, i + 1))
    expect(parse(bytewise)).toEqual(EXPECTED)
    for (let seed = 1; seed <= 50; seed++) {
      const pieces: Uint8Array[] = []
      for (let at = 0, n = seed; at < STREAM.length; at += n, n = ((n * 7 + seed) % 23) + 1) pieces.push(STREAM.subarray(at, at + n))
      expect(parse(pieces)).toEqual(EXPECTED)
    }
  })

  test('reads a body that is not chunked', () => {
    const raw = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\nid: 9\ndata: z\n\n', 'latin1')
    expect(parse([raw.subarray(0, 30), raw.subarray(30)])).toEqual(['head 200', 'message|z|9'])
  })
})

describe('HttpConnection', () => {
  // A raw TCP server, so the test decides exactly how each response is framed and cut.
  const answers: Record<string, string[]> = {
    '/sized': ['HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"n":1}'],
    '/split': ['HTTP/1.1 200 OK\r\ncontent-le', 'ngth: 5\r\n\r\nhel', 'lo'],
    '/chunked': ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n', '6\r\n1,"b":\r\n6\r\n"two"}\r\n', '0\r\n\r\n'],
    '/close': ['HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 3\r\n\r\nbye'],
    '/missing': ['HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'],
  }
  let listener: TCPSocketListener
  let accepted = 0
  const heard: string[] = []

  beforeAll(() => {
    listener = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        open: () => void accepted++,
        async data(socket, data) {
          const text = data.toString('latin1')
          heard.push(text)
          const path = text.slice(4, text.indexOf(' ', 4))
          for (const piece of answers[path]) {
            socket.write(piece)
            await Bun.sleep(0) // a separate write each, so the client sees the response in pieces
          }
          if (path === '/close') socket.end()
        },
      },
    })
  })

  afterAll(() => listener.stop(true))

  test('sends requests one after another on one keep-alive connection, whatever the framing', async () => {
    const conn = new HttpConnection('127.0.0.1', listener.port)
    const before = accepted
    for (let i = 0; i < 5; i++) {
      const res = await conn.get('/sized', { accept: 'application/json' })
      expect(res.status).toBe(200)
      expect(JSON.parse(res.body)).toEqual({ n: 1 })
    }
    expect((await conn.get('/split', {})).body).toBe('hello')
    expect(JSON.parse((await conn.get('/chunked', {})).body)).toEqual({ a: 1, b: 'two' })
    expect((await conn.get('/missing', {})).status).toBe(404)
    expect(accepted - before).toBe(1)
    expect(heard.at(-1)).toBe(`GET /missing HTTP/1.1\r\nhost: 127.0.0.1:${listener.port}\r\n\r\n`)
    conn.close()
  })

  test('opens a new connection after the server closes one', async () => {
    const conn = new HttpConnection('127.0.0.1', listener.port)
    const before = accepted
    expect((await conn.get('/close', {})).body).toBe('bye')
    expect((await conn.get('/sized', {})).body).toBe('{"n":1}')
    expect(accepted - before).toBe(2)
    conn.close()
  })
})
