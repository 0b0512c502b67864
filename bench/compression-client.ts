// Subscribers for bench/compression.ts, in a worker process driven over IPC: SSE or WebSocket over
// raw TCP, each counting the bytes it reads off the socket and decompressing what is compressed
// (gzip SSE incrementally, permessage-deflate per message) as it arrives, before reading each event's send time.
import type { Socket } from 'bun'
import { randomBytes } from 'node:crypto'
import { constants, createGunzip, inflateRawSync } from 'node:zlib'
import { Histogram } from './gen/histogram.ts'
import { nowMs, readStamp } from './gen/payload.ts'
import { SseParser } from './gen/sse-parser.ts'

/** What the driver asks a worker. */
export type ClientCommand =
  | { cmd: 'open'; kind: 'sse' | 'ws'; port: number; stream: string; count: number; compress: boolean }
  | { cmd: 'reset' }
  | { cmd: 'stats' }

/** What a worker measured since the last reset (errors: since it started). */
export interface ClientStats {
  events: number
  wireBytes: number
  errors: number
  latency: ReturnType<Histogram['toJSON']>
}

// What permessage-deflate strips from the end of each message (RFC 7692).
const SYNC_TAIL = Buffer.from([0, 0, 0xff, 0xff])

let latency = new Histogram()
let events = 0
let wireBytes = 0
let errors = 0

function received(text: string): void {
  const stamp = readStamp(text)
  if (!stamp) return
  events++
  latency.recordMs(nowMs() - stamp.t)
}

/**
 * Gunzip, incremental and synchronous, so an event is read in the same turn its bytes arrive: through
 * zlib's native handle, as Bun's asynchronous streams add a thread hop per write and its synchronous
 * `_processChunk` fails after the first call.
 */
class SyncGunzip {
  private readonly zlib = createGunzip() as unknown as { _handle: { writeSync(...args: unknown[]): void }; _writeState: Uint32Array }
  private readonly out = Buffer.alloc(64 * 1024)

  constructor(private readonly onOut: (bytes: Buffer) => void) {}

  feed(input: Buffer): void {
    let at = 0
    for (;;) {
      this.zlib._handle.writeSync(constants.Z_SYNC_FLUSH, input, at, input.length - at, this.out, 0, this.out.length)
      const [outLeft, inLeft] = this.zlib._writeState
      if (outLeft < this.out.length) this.onOut(this.out.subarray(0, this.out.length - outLeft))
      at = input.length - inLeft
      // A full output buffer may leave more to come, even with all input read.
      if (outLeft > 0) return
    }
  }
}

/** HTTP/1.1 response head and chunked framing off, body bytes handed on as they arrive. */
class Dechunker {
  private buf: Buffer = Buffer.alloc(0)
  private isHead = true
  private left = 0

  constructor(private readonly onHead: (status: number, head: string) => void, private readonly onBody: (bytes: Buffer) => void) {}

  feed(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    for (;;) {
      if (this.isHead) {
        const end = this.buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = this.buf.toString('latin1', 0, end)
        this.onHead(Number(head.slice(9, 12)), head)
        this.isHead = false
        this.buf = this.buf.subarray(end + 4)
      } else if (this.left > 0) {
        if (this.buf.length === 0) return
        const n = Math.min(this.left, this.buf.length)
        this.onBody(this.buf.subarray(0, n))
        this.left -= n
        this.buf = this.buf.subarray(n)
        if (this.left === 0) this.left = -2 // the CRLF after the chunk
      } else if (this.left < 0) {
        if (this.buf.length < 2) return
        this.buf = this.buf.subarray(2)
        this.left = 0
      } else {
        const eol = this.buf.indexOf('\r\n')
        if (eol < 0) return
        this.left = Number.parseInt(this.buf.toString('latin1', 0, eol), 16)
        this.buf = this.buf.subarray(eol + 2)
        if (this.left === 0) return
      }
    }
  }
}

async function openSse(port: number, stream: string, compress: boolean): Promise<void> {
  const sse = new SseParser({ head: () => {}, event: (_type, data) => received(data) })
  sse.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')) // the parser then reads plain body bytes
  const gunzip = compress ? new SyncGunzip((bytes) => sse.feed(bytes)) : undefined
  const { promise, resolve } = Promise.withResolvers<void>()
  const http = new Dechunker(
    (status, head) => {
      if (status !== 200 || compress !== /\r\ncontent-encoding: gzip/i.test(head)) errors++
      resolve()
    },
    (bytes) => (gunzip ? gunzip.feed(bytes) : sse.feed(bytes)),
  )
  await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      open: (s) => {
        s.write(`GET /v1/streams/${stream}/events?after=0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${compress ? 'Accept-Encoding: gzip\r\n' : ''}\r\n`)
      },
      data: (_s, chunk) => {
        wireBytes += chunk.length
        http.feed(chunk)
      },
      error: () => {
        errors++
      },
    },
  })
  await promise
}

async function openWs(port: number, stream: string, compress: boolean): Promise<void> {
  let buf: Buffer = Buffer.alloc(0)
  let isOpen = false
  const { promise, resolve } = Promise.withResolvers<void>()
  const frames = (s: Socket) => {
    for (;;) {
      if (!isOpen) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.toString('latin1', 0, end)
        if (!head.startsWith('HTTP/1.1 101') || compress !== /\r\nsec-websocket-extensions: permessage-deflate/i.test(head)) errors++
        isOpen = true
        buf = buf.subarray(end + 4)
        s.write(masked(JSON.stringify({ op: 'subscribe', sub: 's', streams: [stream], after: 0 })))
        continue
      }
      if (buf.length < 2) return
      let len = buf[1] & 0x7f
      let at = 2
      if (len === 126) {
        if (buf.length < 4) return
        len = buf.readUInt16BE(2)
        at = 4
      } else if (len === 127) {
        if (buf.length < 10) return
        len = Number(buf.readBigUInt64BE(2))
        at = 10
      }
      if (buf.length < at + len) return
      const payload = buf.subarray(at, at + len)
      // RSV1 marks a deflated message; the server resets its compressor after each, so each inflates alone.
      const text = (buf[0] & 0x40 ? inflateRawSync(Buffer.concat([payload, SYNC_TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }) : payload).toString('latin1')
      if (text.startsWith('{"op":"ok"')) resolve()
      else if (text.startsWith('{"op":"event"')) received(text)
      buf = buf.subarray(at + len)
    }
  }
  await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      open: (s) => {
        const extension = compress ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : ''
        s.write(`GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extension}\r\n`)
      },
      data: (s, chunk) => {
        wireBytes += chunk.length
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
        frames(s)
      },
      error: () => {
        errors++
      },
    },
  })
  await promise
}

/** One masked client text frame (up to 64 KB). */
function masked(text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = randomBytes(4)
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4]
  const len = payload.length
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff])
  return Buffer.concat([head, mask, payload])
}

process.on('message', async (command: ClientCommand) => {
  if (command.cmd === 'open') {
    const open = command.kind === 'sse' ? openSse : openWs
    for (let i = 0; i < command.count; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, command.count - i) }, () => open(command.port, command.stream, command.compress)))
    }
    process.send!({ opened: command.count })
  } else if (command.cmd === 'reset') {
    latency = new Histogram()
    events = 0
    wireBytes = 0
    process.send!({ ok: true })
  } else {
    process.send!({ events, wireBytes, errors, latency: latency.toJSON() } satisfies ClientStats)
  }
})
