/** The envelope every transport delivers, identical across SSE, WebSocket, polling and export. */
export interface Envelope {
  id: number
  stream: string
  type: string
  data: unknown
  time: string
  key?: string
  correlationId?: string
}

const encoder = new TextEncoder()

/** A committed event with its wire encodings, each built once, on first use, and shared by every subscriber. */
export class Event {
  private sseBytes: Uint8Array | undefined
  private wsText: string | undefined

  constructor(
    readonly id: number,
    readonly stream: string,
    readonly type: string,
    readonly timeMs: number,
    readonly correlationId: string | undefined,
    /** The envelope as JSON text: polling pages, export lines and the other frames embed it verbatim. */
    readonly json: string,
  ) {}

  /** SSE frame: `id`, `event` unless the type is `message`, one `data` line with the envelope. */
  get sse(): Uint8Array {
    // Lazy: a publish nobody subscribes to over SSE never pays for the encoding.
    return (this.sseBytes ??= encoder.encode(sseFrame(this.id, this.type, this.json)))
  }

  /** WebSocket text frame `{"op":"event","event":…}`. */
  get ws(): string {
    return (this.wsText ??= `{"op":"event","event":${this.json}}`)
  }

  envelope(): Envelope {
    return JSON.parse(this.json)
  }
}

export function sseFrame(id: number, type: string, json: string): string {
  // JSON.stringify never emits a raw newline, so one data line always suffices.
  return type === 'message' ? `id: ${id}\ndata: ${json}\n\n` : `id: ${id}\nevent: ${type}\ndata: ${json}\n\n`
}

/** An SSE control frame (gap, reset, end, expired) with a JSON payload and no id, so it never moves Last-Event-ID. */
export function sseControl(type: string, payload: unknown): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`)
}

/** Concatenates the SSE frames of a batch into one chunk: one write per subscriber per batch. */
export function sseChunk(events: readonly Event[]): Uint8Array {
  if (events.length === 1) return events[0].sse
  let size = 0
  for (const e of events) size += e.sse.byteLength
  const out = new Uint8Array(size)
  let at = 0
  for (const e of events) {
    out.set(e.sse, at)
    at += e.sse.byteLength
  }
  return out
}
