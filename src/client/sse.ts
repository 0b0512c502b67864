import { type RingcastError, unreachable } from './errors'
import { queryOf } from './filter'
import type { Http } from './http'
import { delayMs, sleep } from './retry'
import type { Subscription } from './subscription'

/** One SSE frame: `id` is undefined when the frame had no `id:` line (the server's control frames). */
export interface SseFrame {
  id: string | undefined
  event: string
  data: string
}

/** Incremental Server-Sent Events parser (WHATWG rules: CR, LF or CRLF line ends; comments skipped; data lines joined). */
export class SseParser {
  private buffer = ''
  private isAfterCr = false
  private id: string | undefined
  private event = ''
  private data: string[] = []

  constructor(private readonly onFrame: (frame: SseFrame) => void) {}

  push(text: string): void {
    if (text === '') return
    // A CR that ended the last chunk may have been the first half of a CRLF.
    if (this.isAfterCr && text[0] === '\n') text = text.slice(1)
    this.buffer += text
    let start = 0
    for (;;) {
      const cr = this.buffer.indexOf('\r', start)
      const lf = this.buffer.indexOf('\n', start)
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf)
      if (end < 0) break
      this.line(this.buffer.slice(start, end))
      start = end + (end === cr && this.buffer[end + 1] === '\n' ? 2 : 1)
    }
    this.isAfterCr = this.buffer.endsWith('\r')
    this.buffer = this.buffer.slice(start)
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.onFrame({ id: this.id, event: this.event || 'message', data: this.data.join('\n') })
      this.id = undefined
      this.event = ''
      this.data = []
      return
    }
    const colon = line.indexOf(':')
    if (colon === 0) return
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1)
    if (field === 'data') this.data.push(value)
    else if (field === 'event') this.event = value
    else if (field === 'id') this.id = value
  }
}

/** How one SSE connection ended. */
type Outcome = 'dropped' | 'expired' | 'ended'

/** Follows a subscription over SSE: reconnects with backoff, resumes with `after`, renews an expired token. */
export async function followSse(sub: Subscription, http: Http, idleMs: number): Promise<void> {
  for (let attempt = 0; !sub.signal.aborted; ) {
    let outcome: Outcome
    try {
      outcome = await connect(sub, http, idleMs, () => (attempt = 0))
    } catch (error) {
      if (sub.signal.aborted) return
      const e = error as RingcastError
      if (!e.isTransient) return sub.end(e)
      sub.report(e)
      outcome = 'dropped'
    }
    if (outcome === 'ended') return sub.end()
    if (outcome === 'expired') http.token.expire()
    else {
      if (sub.state === 'open') sub.setState('reconnecting')
      await sleep(delayMs(attempt++, http.backoff), sub.signal)
    }
  }
}

async function connect(sub: Subscription, http: Http, idleMs: number, opened: () => void): Promise<Outcome> {
  const aborter = new AbortController()
  const abort = () => aborter.abort()
  sub.signal.addEventListener('abort', abort)
  let idle: ReturnType<typeof setTimeout> | undefined
  try {
    // Heartbeats at a third of idleMs, so only a dead connection is ever silent that long.
    const heartbeat = Math.min(300, Math.max(1, Math.round(idleMs / 3000)))
    idle = setTimeout(abort, idleMs)
    const response = await http.fetch(`/v1/events?${queryOf(sub.filter, { after: sub.position, heartbeat })}`, {
      headers: { Accept: 'text/event-stream' },
      signal: aborter.signal,
    })
    clearTimeout(idle)
    // 204: the stream is closed and nothing is left to replay.
    if (response.status === 204) return 'ended'
    opened()
    sub.setState('open')
    let outcome: Outcome = 'dropped'
    const parser = new SseParser((frame) => {
      if (frame.id !== undefined) return sub.deliver(JSON.parse(frame.data))
      const payload = JSON.parse(frame.data)
      if (frame.event === 'gap') sub.gap(payload)
      else if (frame.event === 'reset') sub.reset(payload)
      else if (frame.event === 'end') outcome = 'ended'
      else if (frame.event === 'expired') outcome = 'expired'
    })
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    for (;;) {
      await sub.ready()
      idle = setTimeout(abort, idleMs)
      const { value, done } = await reader.read()
      clearTimeout(idle)
      if (done) return outcome
      parser.push(decoder.decode(value, { stream: true }))
    }
  } catch (error) {
    if (aborter.signal.aborted && !sub.signal.aborted) return 'dropped'
    throw sub.signal.aborted ? error : unreachable(error)
  } finally {
    clearTimeout(idle)
    sub.signal.removeEventListener('abort', abort)
  }
}
