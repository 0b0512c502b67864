import { Wakeup } from './wakeup'

/** One parsed SSE frame: a comment-only frame has no fields. */
export interface SseFrame {
  id?: string
  event: string
  data?: string
  retry?: string
  comments: string[]
}

/**
 * A real SSE client over fetch that parses frames incrementally. `next()` waits for the next
 * frame that is not only a comment; `ended` resolves when the server ends the response.
 */
export class SseClient {
  readonly frames: SseFrame[] = []
  status = 0
  headers: Headers | undefined
  isEnded = false
  readonly ended: Promise<void>
  private readonly response: Promise<Response>
  private readonly abort = new AbortController()
  private readonly wakeup = new Wakeup()
  private read = 0

  constructor(url: string, headers: Record<string, string> = {}) {
    this.response = fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: this.abort.signal })
    this.ended = this.pump()
  }

  static open(url: string, headers: Record<string, string> = {}): SseClient {
    return new SseClient(url, headers)
  }

  /** Resolves with the response status and headers as soon as they arrive. */
  async opened(): Promise<Response> {
    return this.response
  }

  /** The next event frame (skipping comment-only frames), or throws if the stream ends first. */
  async next(timeoutMs = 10_000): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      while (this.read < this.frames.length) {
        const frame = this.frames[this.read++]
        if (frame.data !== undefined || frame.id !== undefined) return frame
      }
      if (this.isEnded) throw new Error('SSE stream ended')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no SSE frame within ${timeoutMs} ms`)
      await this.wakeup.until(left)
    }
  }

  /** Collects `n` event frames. */
  async take(n: number, timeoutMs = 10_000): Promise<SseFrame[]> {
    const out: SseFrame[] = []
    while (out.length < n) out.push(await this.next(timeoutMs))
    return out
  }

  /** Waits until a frame satisfying `predicate` has arrived (any frame, comments included). */
  async until(predicate: (f: SseFrame) => boolean, timeoutMs = 10_000): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs
    let checked = 0
    for (;;) {
      for (; checked < this.frames.length; checked++) if (predicate(this.frames[checked])) return this.frames[checked]
      if (this.isEnded) throw new Error('SSE stream ended')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`condition not met within ${timeoutMs} ms`)
      await this.wakeup.until(left)
    }
  }

  close(): void {
    this.abort.abort()
  }

  private async pump(): Promise<void> {
    let buffer = ''
    try {
      const res = await this.response
      this.status = res.status
      this.headers = res.headers
      if (!res.body) return
      const decoder = new TextDecoder()
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let cut = buffer.indexOf('\n\n')
        while (cut >= 0) {
          this.frames.push(parseFrame(buffer.slice(0, cut)))
          buffer = buffer.slice(cut + 2)
          cut = buffer.indexOf('\n\n')
        }
        this.wakeup.wake()
      }
    } catch {
      // Aborted by close(), or the connection dropped: either way the stream has ended.
    } finally {
      this.isEnded = true
      this.wakeup.wake()
    }
  }

}

export function parseFrame(text: string): SseFrame {
  const frame: SseFrame = { event: 'message', comments: [] }
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      frame.comments.push(line.slice(1).trim())
      continue
    }
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'id') frame.id = value
    else if (field === 'event') frame.event = value
    else if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`
    else if (field === 'retry') frame.retry = value
  }
  return frame
}
