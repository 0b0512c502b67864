import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { constants, createGunzip, deflateRawSync, type Gunzip, inflateRawSync } from 'node:zlib'
import { Wakeup } from './wakeup'

/**
 * A bare TCP client that can stop reading (`pause()`), so the server sees real backpressure,
 * as a stalled browser tab or a congested link would cause. Everything read is kept in `received`.
 */
class RawTcp {
  protected received = Buffer.alloc(0)
  isClosed = false
  readonly closed: Promise<void>
  protected readonly wakeup = new Wakeup()

  protected constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk])
      this.onData()
      this.wakeup.wake()
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true
        this.wakeup.wake()
        resolve()
      })
    })
    socket.on('error', () => {})
  }

  protected static connectTo(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket))
      socket.once('error', reject)
    })
  }

  protected onData(): void {}

  /** Stops reading from the socket: the kernel buffers fill and the server's writes back up. */
  pause(): void {
    this.socket.pause()
  }

  resume(): void {
    this.socket.resume()
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** Waits until `predicate` holds (checked on every chunk read) or the socket closes. */
  async until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (predicate()) return
      if (this.isClosed) throw new Error(`socket closed before ${what}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${what} not met within ${timeoutMs} ms`)
      await this.wakeup.until(left)
    }
  }

}

/**
 * An SSE GET over a bare socket; `body` is the de-chunked response body read so far. A gzip body is
 * decompressed as it arrives (`body` is the text, `compressed` the bytes); it has ended once its
 * trailer checked out, or `gzipError` says why not.
 */
export class RawSseClient extends RawTcp {
  status = 0
  body = ''
  /** The response head (status line and headers). */
  head = ''
  /** Whether the response has ended (last chunk read); the connection itself may stay open for keep-alive. */
  isEnded = false
  readonly compressed: Buffer[] = []
  gzipError: Error | undefined
  private headerEnd = -1
  private isChunked = false
  private offset = 0
  private gunzip: Gunzip | undefined

  static async open(port: number, path: string, headers: Record<string, string> = {}): Promise<RawSseClient> {
    const client = new RawSseClient(await RawTcp.connectTo(port))
    const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    client.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`)
    await client.until(() => client.body.includes('retry:'), 10_000, 'SSE opening')
    return client
  }

  /** Resolves when the server has ended the response or closed the connection. */
  async ended(timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.isEnded, timeoutMs, 'end of the SSE response').catch((error) => {
      if (!this.isClosed) throw error
    })
  }

  protected override onData(): void {
    if (this.headerEnd < 0) {
      const end = this.received.indexOf('\r\n\r\n')
      if (end < 0) return
      this.headerEnd = end + 4
      const head = this.received.subarray(0, end).toString('latin1')
      this.head = head
      this.status = Number(head.split(' ')[1])
      this.isChunked = /transfer-encoding:\s*chunked/i.test(head)
      if (/\r\ncontent-encoding:\s*gzip/i.test(head)) this.startGunzip()
      this.offset = this.headerEnd
    }
    if (!this.isChunked) {
      this.take(this.received.subarray(this.offset))
      this.received = Buffer.alloc(0)
      this.offset = 0
      return
    }
    for (;;) {
      const lineEnd = this.received.indexOf('\r\n', this.offset)
      if (lineEnd < 0) return
      const size = Number.parseInt(this.received.subarray(this.offset, lineEnd).toString('latin1'), 16)
      if (size === 0) {
        if (this.gunzip) this.gunzip.end()
        else this.isEnded = true
        return
      }
      if (this.received.length < lineEnd + 2 + size + 2) return
      this.take(this.received.subarray(lineEnd + 2, lineEnd + 2 + size))
      // Drop what has been parsed (a view, no copy), so appending stays cheap.
      this.received = this.received.subarray(lineEnd + 2 + size + 2)
      this.offset = 0
    }
  }

  private take(bytes: Buffer): void {
    if (!this.gunzip) {
      this.body += bytes.toString('utf8')
      return
    }
    this.compressed.push(Buffer.from(bytes))
    this.gunzip.write(bytes)
  }

  private startGunzip(): void {
    const gunzip = createGunzip({ flush: constants.Z_SYNC_FLUSH })
    gunzip.on('data', (text: Buffer) => {
      this.body += text.toString('utf8')
      this.wakeup.wake()
    })
    // Past the trailer: Node's gunzip has checked its CRC-32 and length.
    gunzip.on('end', () => {
      this.isEnded = true
      this.wakeup.wake()
    })
    gunzip.on('error', (error) => {
      this.gzipError = error
      this.isEnded = true
      this.wakeup.wake()
    })
    this.gunzip = gunzip
  }
}

/** One server WebSocket frame; `isCompressed`: RSV1 set (permessage-deflate). */
export interface RawFrame {
  opcode: number
  payload: Buffer
  isCompressed: boolean
}

// What permessage-deflate strips from the end of each message (RFC 7692).
const SYNC_TAIL = Buffer.from([0, 0, 0xff, 0xff])

/** A WebSocket client over a bare socket (RFC 6455 framing; permessage-deflate when offered), so it can stop reading. */
export class RawWsClient extends RawTcp {
  readonly frames: RawFrame[] = []
  status = 0
  /** The handshake answer's head (status line and headers). */
  head = ''
  private offset = -1

  /** `extensions`: offered in Sec-WebSocket-Extensions (e.g. `permessage-deflate`). */
  static async open(port: number, extensions?: string): Promise<RawWsClient> {
    const client = new RawWsClient(await RawTcp.connectTo(port))
    const key = randomBytes(16).toString('base64')
    const offer = extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : ''
    client.socket.write(
      `GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${offer}\r\n`,
    )
    await client.until(() => client.offset >= 0, 10_000, 'WebSocket handshake')
    if (client.status !== 101) throw new Error(`handshake refused: ${client.status}`)
    return client
  }

  /** Sends one masked text frame, deflated (RSV1) with `isCompressed`; the socket must have negotiated permessage-deflate. */
  send(message: unknown, isCompressed = false): void {
    const text = Buffer.from(JSON.stringify(message))
    const payload = isCompressed ? deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -SYNC_TAIL.length) : text
    const first = isCompressed ? 0xc1 : 0x81
    const mask = randomBytes(4)
    const len = payload.length
    const head = len < 126 ? Buffer.from([first, 0x80 | len]) : Buffer.from([first, 0x80 | 126, len >> 8, len & 0xff])
    const masked = Buffer.alloc(len)
    for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i % 4]
    this.socket.write(Buffer.concat([head, mask, masked]))
  }

  /** The JSON text frames received so far (inflated where compressed). */
  messages(): any[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(RawWsClient.text(f)))
  }

  /** A frame's text, inflated when compressed (each message on its own: the server resets its compressor). */
  static text(frame: RawFrame): string {
    return (frame.isCompressed ? inflateRawSync(Buffer.concat([frame.payload, SYNC_TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }) : frame.payload).toString('utf8')
  }

  /** The close frame's code, once received. */
  closeCode(): number | undefined {
    const close = this.frames.find((f) => f.opcode === 8)
    return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined
  }

  protected override onData(): void {
    if (this.offset < 0) {
      const end = this.received.indexOf('\r\n\r\n')
      if (end < 0) return
      this.head = this.received.subarray(0, end).toString('latin1')
      this.status = Number(this.head.split(' ')[1])
      this.offset = end + 4
    }
    for (;;) {
      const buf = this.received
      let at = this.offset
      if (buf.length < at + 2) return
      const opcode = buf[at] & 0x0f
      const isCompressed = (buf[at] & 0x40) !== 0
      let len = buf[at + 1] & 0x7f
      at += 2
      if (len === 126) {
        if (buf.length < at + 2) return
        len = buf.readUInt16BE(at)
        at += 2
      } else if (len === 127) {
        if (buf.length < at + 8) return
        len = Number(buf.readBigUInt64BE(at))
        at += 8
      }
      if (buf.length < at + len) return
      this.frames.push({ opcode, payload: Buffer.from(buf.subarray(at, at + len)), isCompressed })
      // Drop what has been parsed (a view, no copy), so appending stays cheap.
      this.received = this.received.subarray(at + len)
      this.offset = 0
    }
  }
}

/** A counter's value from the Prometheus text at /metrics (0 when absent); `headers` carry an admin token where needed. */
export async function metric(base: string, name: string, labels = '', headers: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers })).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
}

const TCP_STATES: Record<string, string> = { '01': 'ESTABLISHED', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0B': 'CLOSING' }

/** The kernel's state of the server's end of the TCP connection from `clientPort` to `serverPort`, or null when it no longer exists. */
export function serverSocketState(serverPort: number, clientPort: number): string | null {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0')
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/)
      if (local?.endsWith(`:${hex(serverPort)}`) && remote?.endsWith(`:${hex(clientPort)}`)) return TCP_STATES[state] ?? state
    }
  }
  return null
}

/** A GET over a bare socket (Connection: close), answered as sent: head text and body bytes, de-chunked but never decompressed. */
export async function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: Buffer }> {
  const socket = connect({ host: '127.0.0.1', port })
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const closed = new Promise<void>((resolve, reject) => {
    socket.once('close', () => resolve())
    socket.once('error', reject)
  })
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${extra}\r\n`)
  await closed
  const all = Buffer.concat(chunks)
  const end = all.indexOf('\r\n\r\n')
  const head = all.subarray(0, end).toString('latin1')
  let body = all.subarray(end + 4)
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const parts: Buffer[] = []
    for (let at = 0; ; ) {
      const lineEnd = body.indexOf('\r\n', at)
      const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16)
      if (!(size > 0)) break
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size))
      at = lineEnd + 2 + size + 2
    }
    body = Buffer.concat(parts)
  }
  return { status: Number(head.split(' ')[1]), head, body }
}
