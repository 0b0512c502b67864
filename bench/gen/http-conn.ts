import type { Socket } from 'bun'

/** A parsed HTTP response; header names are lower-case. The bench's bodies are ASCII, read as latin1. */
export interface HttpResponse {
  status: number
  headers: Map<string, string>
  body: string
}

/**
 * One keep-alive HTTP/1.1 connection over a raw TCP socket (Bun.connect), one request at a time: what a
 * long-poller or a publisher needs. fetch() cost the generator ≈ 54 µs per request, about what the server under
 * test spent on it, and its pool closes sockets it cannot keep, which the server pays to accept again.
 */
export class HttpConnection {
  private socket: Socket | null = null
  private connecting: Promise<Socket> | null = null
  private parser = new ResponseParser()
  private waiting: PromiseWithResolvers<HttpResponse> | null = null

  constructor(private readonly hostname: string, private readonly port: number) {}

  get(pathAndQuery: string, headers: Record<string, string>): Promise<HttpResponse> {
    return this.request('GET', pathAndQuery, headers)
  }

  async request(method: string, pathAndQuery: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
    if (this.waiting) throw new Error('HttpConnection: one request at a time')
    const socket = this.socket ?? await (this.connecting ??= this.connect())
    let head = `${method} ${pathAndQuery} HTTP/1.1\r\nhost: ${this.hostname}:${this.port}\r\n`
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`
    if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`
    this.waiting = Promise.withResolvers<HttpResponse>()
    socket.write(`${head}\r\n${body ?? ''}`)
    return this.waiting.promise
  }

  close(): void {
    this.socket?.end()
    this.fail(new Error('closed'))
  }

  private async connect(): Promise<Socket> {
    this.parser = new ResponseParser()
    try {
      return this.socket = await Bun.connect({
        hostname: this.hostname,
        port: this.port,
        socket: {
          data: (s, buf) => {
            const res = this.parser.feed(buf.toString('latin1'))
            if (!res) return
            if (res.headers.get('connection')?.toLowerCase() === 'close') {
              this.socket = null
              s.end()
            }
            const w = this.waiting
            this.waiting = null
            w?.resolve(res)
          },
          // Only the current socket's end fails a request: an old one may close after the next is open.
          close: (s) => { if (s === this.socket) this.drop() },
          error: (s) => { if (s === this.socket) this.drop() },
        },
      })
    } finally {
      this.connecting = null
    }
  }

  private drop(): void {
    this.socket = null
    this.fail(new Error('connection closed'))
  }

  private fail(err: Error): void {
    const w = this.waiting
    this.waiting = null
    w?.reject(err)
  }
}

/** Incremental response parser: Content-Length or chunked bodies (no pipelining, so one response at a time). */
class ResponseParser {
  private text = ''
  private head: { status: number; headers: Map<string, string>; bodyAt: number } | null = null

  /** The response once complete; its bytes are consumed. */
  feed(chunk: string): HttpResponse | null {
    this.text += chunk
    if (!this.head) {
      const end = this.text.indexOf('\r\n\r\n')
      if (end < 0) return null
      const lines = this.text.slice(0, end).split('\r\n')
      const headers = new Map<string, string>()
      for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(':')
        if (colon > 0) headers.set(lines[i].slice(0, colon).trim().toLowerCase(), lines[i].slice(colon + 1).trim())
      }
      this.head = { status: Number(lines[0].slice(9, 12)), headers, bodyAt: end + 4 }
    }
    const { status, headers, bodyAt } = this.head
    const body = headers.get('transfer-encoding')?.includes('chunked') ? this.chunked(bodyAt) : this.sized(bodyAt, Number(headers.get('content-length') ?? 0))
    if (body === null) return null
    this.head = null
    return { status, headers, body }
  }

  private sized(at: number, length: number): string | null {
    if (this.text.length - at < length) return null
    const body = this.text.slice(at, at + length)
    this.text = this.text.slice(at + length)
    return body
  }

  /** Re-walks the chunks from the start of the body each time: bodies here are small and mostly arrive whole. */
  private chunked(at: number): string | null {
    let body = ''
    for (let pos = at; ;) {
      const eol = this.text.indexOf('\r\n', pos)
      if (eol < 0) return null
      const size = parseInt(this.text.slice(pos, eol), 16)
      if (size === 0) {
        const end = this.text.indexOf('\r\n', eol + 2) // no trailers are expected: the empty line ends the body
        if (end < 0) return null
        this.text = this.text.slice(end + 2)
        return body
      }
      if (this.text.length < eol + 2 + size + 2) return null
      body += this.text.slice(eol + 2, eol + 2 + size)
      pos = eol + 2 + size + 2
    }
  }
}
