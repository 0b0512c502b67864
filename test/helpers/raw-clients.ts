import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { Wakeup } from './wakeup'

/**
 * A bare TCP client that can stop reading (`pause()`), so the server sees real backpressure,
 * as a stalled browser tab or a congested link would cause. Everything read is kept in `received`.
 */
class RawTcp {
  protected received = Buffer.alloc(0)
  isClosed = false
  readonly closed: Promise<void>
  private readonly wakeup = new Wakeup()

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

/** An SSE GET over a bare socket; `body` is the de-chunked response body read so far. */
export class RawSseClient extends RawTcp {
  status = 0
  body = ''
  /** Whether the response has ended (last chunk read); the connection itself may stay open for keep-alive. */
  isEnded = false
  private headerEnd = -1
  private isChunked = false
  private offset = 0

  static async open(port: number, path: string): Promise<RawSseClient> {
    const client = new RawSseClient(await RawTcp.connectTo(port))
    client.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`)
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
      this.status = Number(head.split(' ')[1])
      this.isChunked = /transfer-encoding:\s*chunked/i.test(head)
      this.offset = this.headerEnd
    }
    if (!this.isChunked) {
      this.body += this.received.subarray(this.offset).toString('utf8')
      this.received = Buffer.alloc(0)
      this.offset = 0
      return
    }
    for (;;) {
      const lineEnd = this.received.indexOf('\r\n', this.offset)
      if (lineEnd < 0) return
      const size = Number.parseInt(this.received.subarray(this.offset, lineEnd).toString('latin1'), 16)
      if (size === 0) {
        this.isEnded = true
        return
      }
      if (this.received.length < lineEnd + 2 + size + 2) return
      this.body += this.received.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8')
      // Drop what has been parsed (a view, no copy), so appending stays cheap.
      this.received = this.received.subarray(lineEnd + 2 + size + 2)
      this.offset = 0
    }
  }
}

/** One server WebSocket frame. */
export interface RawFrame {
  opcode: number
  payload: Buffer
}

/** A WebSocket client over a bare socket (RFC 6455 framing, no extensions), so it can stop reading. */
export class RawWsClient extends RawTcp {
  readonly frames: RawFrame[] = []
  status = 0
  private offset = -1

  static async open(port: number): Promise<RawWsClient> {
    const client = new RawWsClient(await RawTcp.connectTo(port))
    const key = randomBytes(16).toString('base64')
    client.socket.write(
      `GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    await client.until(() => client.offset >= 0, 10_000, 'WebSocket handshake')
    if (client.status !== 101) throw new Error(`handshake refused: ${client.status}`)
    return client
  }

  /** Sends one masked text frame. */
  send(message: unknown): void {
    const payload = Buffer.from(JSON.stringify(message))
    const mask = randomBytes(4)
    const len = payload.length
    const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff])
    const masked = Buffer.alloc(len)
    for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i % 4]
    this.socket.write(Buffer.concat([head, mask, masked]))
  }

  /** The JSON text frames received so far. */
  messages(): any[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString('utf8')))
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
      this.status = Number(this.received.subarray(0, end).toString('latin1').split(' ')[1])
      this.offset = end + 4
    }
    for (;;) {
      const buf = this.received
      let at = this.offset
      if (buf.length < at + 2) return
      const opcode = buf[at] & 0x0f
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
      this.frames.push({ opcode, payload: Buffer.from(buf.subarray(at, at + len)) })
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
