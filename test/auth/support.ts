import { WsTestClient } from '../helpers/ws-client'

/** A finished response: status, content type and the whole body (an SSE body up to `until`). */
export interface Answer {
  status: number
  contentType: string
  text: string
  headers: Headers
}

export const bearer = (credential: string | null): Record<string, string> => (credential === null ? {} : { Authorization: `Bearer ${credential}` })

/** Headers plus a JSON content type. */
export const json = (headers: Record<string, string>) => ({ ...headers, 'Content-Type': 'application/json' })

/** Any request, read to the end. */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init)
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers }
}

/**
 * Opens an SSE response and reads it until its text contains `until` (or it ends, or `timeoutMs` passes),
 * then lets it go. A refused subscription is read to its end (a problem+json body).
 */
export async function sseRead(url: string, headers: Record<string, string>, until: string, timeoutMs = 5000): Promise<Answer> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  try {
    const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal })
    const answer = { status: res.status, contentType: res.headers.get('content-type') ?? '', text: '', headers: res.headers }
    if (!res.body) return answer
    const decoder = new TextDecoder()
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        answer.text += decoder.decode(chunk, { stream: true })
        if (answer.text.includes(until)) break
      }
    } catch {
      // Timed out: the caller checks what arrived.
    }
    return answer
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}

/** Opens a WebSocket, or resolves null when the upgrade is refused. */
export async function wsOpen(url: string): Promise<WsTestClient | null> {
  try {
    return await WsTestClient.open(url)
  } catch {
    return null
  }
}

/** A WebSocket whose token the server refuses inside it: the frames it got, then its close code and reason (the socket is given up after `timeoutMs`). */
export async function wsRefusal(url: string, headers: Record<string, string> = {}, timeoutMs = 4000): Promise<{ frames: any[]; code: number; reason: string }> {
  const socket = new WebSocket(url, { headers } as never)
  const frames: any[] = []
  socket.addEventListener('message', (m) => frames.push(JSON.parse(String(m.data))))
  const timer = setTimeout(() => socket.close(1000, 'test gave up'), timeoutMs)
  const { code, reason } = await new Promise<CloseEvent>((resolve) => socket.addEventListener('close', resolve))
  clearTimeout(timer)
  return { frames, code, reason }
}

/** The answer to a WebSocket upgrade request that is expected to be refused (an accepted one would be a 101 whose body never ends). */
export async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return call(url, {
    headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', ...headers },
  })
}

/** Sends a frame and waits for the first message that answers it. */
export async function roundTrip(ws: WsTestClient, frame: Record<string, unknown>, answers: (m: any) => boolean): Promise<any> {
  ws.send(frame)
  return ws.next(answers)
}

/** All events retained for `pattern`, read with an NDJSON export. */
export async function exported(base: string, pattern: string, headers: Record<string, string>): Promise<any[]> {
  const res = await fetch(`${base}/v1/events?stream=${encodeURIComponent(pattern)}&after=0`, { headers: { Accept: 'application/x-ndjson', ...headers } })
  if (res.status !== 200) throw new Error(`export of ${pattern} answered ${res.status}: ${await res.text()}`)
  return (await res.text())
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l))
}
