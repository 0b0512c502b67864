/** Incremental HTTP/1.1 response + chunked decoding + SSE framing, fed the socket's bytes as they arrive. */
export interface SseHandlers {
  head(status: number): void
  event(type: string, data: string, id: string | null): void
}

const CR = 13, LF = 10, COLON = 58, SPACE = 32
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0))
const DATA = bytes('data'), EVENT = bytes('event'), ID = bytes('id')
const HEAD_END = Buffer.from('\r\n\r\n')

/**
 * Works on bytes, not strings: the generator reads 100k+ events/s on the same cores as the server, and
 * only the data and id of each event become strings (latin1: the bench's payloads are ASCII).
 */
export class SseParser {
  private state: 'head' | 'size' | 'body' | 'crlf' | 'raw' = 'head'
  /** Bytes of the HTTP layer not consumed yet (a partial head, chunk-size line or CRLF). */
  private pending: Buffer | null = null
  private chunkLeft = 0
  /** Body bytes of an SSE line not finished yet. */
  private partial: Buffer | null = null
  private data: string | null = null
  private type = ''
  private id: string | null = null

  constructor(private on: SseHandlers) {}

  feed(chunk: Uint8Array): void {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf])
      this.pending = null
    }
    let at = 0
    while (at < buf.length) {
      if (this.state === 'head') {
        const end = buf.indexOf(HEAD_END, at)
        if (end < 0) break
        const head = buf.toString('latin1', at, end)
        at = end + 4
        this.state = /\r\ntransfer-encoding:\s*chunked/i.test(head) ? 'size' : 'raw'
        this.on.head(Number(head.slice(9, 12)))
      } else if (this.state === 'raw') {
        this.body(buf, at, buf.length)
        at = buf.length
      } else if (this.state === 'size') {
        const end = buf.indexOf(LF, at)
        if (end < 0) break
        this.chunkLeft = parseInt(buf.toString('latin1', at, end), 16)
        at = end + 1
        this.state = this.chunkLeft === 0 ? 'crlf' : 'body'
      } else if (this.state === 'body') {
        const end = Math.min(buf.length, at + this.chunkLeft)
        this.body(buf, at, end)
        this.chunkLeft -= end - at
        at = end
        if (this.chunkLeft === 0) this.state = 'crlf'
      } else {
        if (buf.length - at < 2) break
        at += 2
        this.state = 'size'
      }
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at))
  }

  /** SSE lines of body bytes [from, to); a line cut by a read or chunk boundary waits in `partial`. */
  private body(buf: Buffer, from: number, to: number): void {
    if (this.partial) {
      buf = Buffer.concat([this.partial, buf.subarray(from, to)])
      from = 0
      to = buf.length
      this.partial = null
    }
    let start = from
    for (;;) {
      const nl = buf.indexOf(LF, start)
      if (nl < 0 || nl >= to) break
      const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl
      this.field(buf, start, end)
      start = nl + 1
    }
    if (start < to) this.partial = Buffer.from(buf.subarray(start, to))
  }

  private field(buf: Buffer, start: number, end: number): void {
    if (start === end) {
      if (this.data !== null) this.on.event(this.type || 'message', this.data, this.id)
      this.data = null
      this.type = ''
      return
    }
    if (buf[start] === COLON) return // comment (heartbeat, hello)
    let colon = buf.indexOf(COLON, start)
    if (colon < 0 || colon > end) colon = end
    let valueAt = colon + 1
    if (valueAt < end && buf[valueAt] === SPACE) valueAt++
    const value = () => (valueAt < end ? buf.toString('latin1', valueAt, end) : '')
    if (isName(buf, start, colon, DATA)) this.data = this.data === null ? value() : `${this.data}\n${value()}`
    else if (isName(buf, start, colon, EVENT)) this.type = value()
    else if (isName(buf, start, colon, ID)) this.id = value()
  }
}

function isName(buf: Buffer, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name[i]) return false
  return true
}
