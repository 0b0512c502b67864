/** Incremental HTTP/1.1 response + chunked decoding + SSE framing, fed raw latin1 text as it arrives. */
export interface SseHandlers {
  head(status: number): void
  event(type: string, data: string, id: string | null): void
}

export class SseParser {
  private state: 'head' | 'size' | 'body' | 'crlf' | 'raw' = 'head'
  private pending = ''
  private chunkLeft = 0
  private line = ''
  private data: string[] = []
  private type = ''
  private id: string | null = null

  constructor(private on: SseHandlers) {}

  feed(text: string): void {
    this.pending += text
    for (;;) {
      if (this.state === 'head') {
        const end = this.pending.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = this.pending.slice(0, end)
        this.pending = this.pending.slice(end + 4)
        this.state = /\r\ntransfer-encoding:\s*chunked/i.test(head) ? 'size' : 'raw'
        this.on.head(Number(head.slice(9, 12)))
      } else if (this.state === 'raw') {
        this.lines(this.pending)
        this.pending = ''
        return
      } else if (this.state === 'size') {
        const end = this.pending.indexOf('\r\n')
        if (end < 0) return
        this.chunkLeft = parseInt(this.pending.slice(0, end), 16)
        this.pending = this.pending.slice(end + 2)
        if (this.chunkLeft === 0) return
        this.state = 'body'
      } else if (this.state === 'body') {
        // Strings are latin1, so string length = byte count = chunk size.
        if (this.pending.length < this.chunkLeft) {
          this.chunkLeft -= this.pending.length
          this.lines(this.pending)
          this.pending = ''
          return
        }
        this.lines(this.pending.slice(0, this.chunkLeft))
        this.pending = this.pending.slice(this.chunkLeft)
        this.chunkLeft = 0
        this.state = 'crlf'
      }
      if (this.state === 'crlf') {
        if (this.pending.length < 2) return
        this.pending = this.pending.slice(2)
        this.state = 'size'
      }
    }
  }

  private lines(text: string): void {
    let start = 0
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) { this.line += text.slice(start); return }
      let line = this.line + text.slice(start, nl)
      this.line = ''
      start = nl + 1
      if (line.endsWith('\r')) line = line.slice(0, -1)
      this.field(line)
    }
  }

  private field(line: string): void {
    if (line === '') {
      if (this.data.length) this.on.event(this.type || 'message', this.data.join('\n'), this.id)
      this.data = []
      this.type = ''
      return
    }
    if (line.charCodeAt(0) === 58) return // ":" comment (heartbeat, hello)
    const colon = line.indexOf(':')
    const name = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (name === 'data') this.data.push(value)
    else if (name === 'event') this.type = value
    else if (name === 'id') this.id = value
  }
}
