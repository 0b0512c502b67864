import { digitsEnd, type Stamp } from '../gen/payload.ts'
import type { Target, TargetSpec } from './target.ts'

const json = { 'content-type': 'application/json' }

/** ringcast per DESIGN.md: envelopes over SSE/WS/polling, numeric ids, `after=0` reads a fresh stream from its start. */
export function ringcast(spec: TargetSpec): Target {
  const base = spec.base
  return {
    name: 'ringcast',
    caps: { ws: true, poll: true, pattern: true, batch: true, wsResume: true },
    publish: (stream, data) => ({ url: `${base}/v1/streams/${stream}/events`, headers: json, body: `{"type":"b","data":${data}}` }),
    publishBatch: (stream, data) => ({
      url: `${base}/v1/streams/${stream}/events`, headers: json,
      body: `[${data.map((d) => `{"type":"b","data":${d}}`).join(',')}]`,
    }),
    sse(streams, lastId) {
      // Always after=0: the bench's streams are fresh, so nothing published before the subscription can be missed.
      const one = streams.length === 1 && !streams[0].includes('*')
      const url = one ? `${base}/v1/streams/${streams[0]}/events?after=0`
        : `${base}/v1/events?${streams.map((s) => `stream=${encodeURIComponent(s)}`).join('&')}&after=0`
      const headers: Record<string, string> = { accept: 'text/event-stream' }
      if (lastId !== null) headers['last-event-id'] = lastId
      return { url, headers }
    },
    wsUrl: () => `${base.replace(/^http/, 'ws')}/v1/ws`,
    wsHello: (streams, lastId) => JSON.stringify({ op: 'subscribe', sub: 's1', streams, after: Number(lastId ?? 0) }),
    wsFrame(text) {
      if (text.startsWith('{"op":"event"')) return { kind: 'event', text, id: idOf(text) }
      const op = /"op":"(\w+)"/.exec(text)?.[1] ?? 'unknown'
      // `live` marks the end of a replay: nothing to count.
      if (op === 'live') return { kind: 'skip' }
      return op === 'ok' ? { kind: 'ready' } : { kind: 'other', what: `ws-${op}` }
    },
    poll: (stream, cursor) => ({ url: `${base}/v1/streams/${stream}/events?after=${cursor ?? 0}&wait=30&limit=1000`, headers: { accept: 'application/json' } }),
    pollParse(res, cursor) {
      const page = JSON.parse(res.body) as { events: { id: number; data: Stamp }[]; next: number }
      const events = page.events.map((e) => ({ stamp: e.data, id: String(e.id) }))
      return { events, cursor: page.next != null ? String(page.next) : cursor }
    },
    readPage: (stream) => `${base}/v1/streams/${stream}/events?after=0&limit=100`,
  }
}

function idOf(text: string): string | null {
  const at = text.indexOf('"id":')
  if (at < 0) return null
  const end = digitsEnd(text, at + 5)
  return end > at + 5 ? text.slice(at + 5, end) : null
}

