import { readStamp, type Stamp } from '../gen/payload.ts'
import type { Target, TargetSpec } from './target.ts'

/**
 * Nchan (bench/peers/nchan.conf): /pub/{channel} and /sub/{channel}; messages are our raw data.
 * Fresh channels plus `nchan_subscriber_first_message oldest` give the same "from the start" as ringcast's after=0.
 */
export function nchan(spec: TargetSpec): Target {
  const base = spec.base
  return {
    name: 'nchan',
    caps: { ws: true, poll: true, pattern: false, batch: false, wsResume: false },
    publish: (stream, data) => ({ url: `${base}/pub/${stream}`, headers: { 'content-type': 'application/json' }, body: data }),
    sse(streams, lastId) {
      const headers: Record<string, string> = { accept: 'text/event-stream' }
      if (lastId !== null) headers['last-event-id'] = lastId
      return { url: `${base}/sub/${streams[0]}`, headers }
    },
    wsUrl: (streams) => `${base.replace(/^http/, 'ws')}/sub/${streams[0]}`,
    wsHello: () => null,
    wsFrame: (text) => ({ kind: 'event', text, id: null }),
    poll(stream, cursor) {
      // Nchan's long-poll cursor is Last-Modified + Etag, sent back as If-Modified-Since / If-None-Match.
      const headers: Record<string, string> = {}
      if (cursor) {
        const [time, tag] = JSON.parse(cursor) as [string, string]
        headers['if-modified-since'] = time
        headers['if-none-match'] = tag
      }
      return { url: `${base}/sub/${stream}`, headers }
    },
    pollParse(res, cursor) {
      if (res.status !== 200) return { events: [], cursor }
      // nchan_longpoll_multipart_response raw: several messages, newline-separated.
      const events = res.body.split('\n').map(readStamp).filter((s): s is Stamp => s !== null).map((stamp) => ({ stamp, id: null }))
      const time = res.headers.get('last-modified'), tag = res.headers.get('etag')
      return { events, cursor: time && tag ? JSON.stringify([time, tag]) : cursor }
    },
  }
}
