// GET /v1/stats: read with fetch, not EventSource, so the token travels in a header (a ticket grants
// subscribing only, never the admin right this stream needs); reconnects after a dropped connection.
import { headers } from './api.js'
import { bytes, count, duration, rate } from './dom.js'

/**
 * Follows the stats stream: `onHistory(samples)` on each (re)connect, then `onSample(sample)` once a
 * second. Stops for good when the token may not read it (401, 403). Returns a stop function.
 */
export function followStats({ onHistory, onSample }) {
  const abort = new AbortController()
  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch('/v1/stats', { headers: headers({ Accept: 'text/event-stream' }), signal: abort.signal })
        if (res.status === 401 || res.status === 403) return
        if (res.ok && res.body) await readEvents(res.body, (type, data) => (type === 'history' ? onHistory(JSON.parse(data)) : type === 'stats' && onSample(JSON.parse(data))))
      } catch {
        // The server went away or restarted: try again below.
      }
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  }
  run()
  return () => abort.abort()
}

/** Parses an SSE body into (event type, data) calls until it ends. */
async function readEvents(body, on) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += value
    let cut
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      let type = 'message'
      let data = ''
      for (const line of buffer.slice(0, cut).split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim()
        else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '')
      }
      buffer = buffer.slice(cut + 2)
      if (data) on(type, data)
    }
  }
}

/** Shows a sample in the header's key figures. */
export function showKpis(root, s) {
  const set = (name, text) => {
    root.querySelector(`[data-kpi="${name}"]`).textContent = text
  }
  const c = s.connections
  const d = s.deliveriesPerSecond
  set('uptime', duration(s.uptimeSeconds))
  set('streams', count(s.streams))
  set('lastId', count(s.lastId))
  set('connections', count(c.sse + c.ws + c.poll))
  set('events', rate(s.eventsPerSecond))
  set('deliveries', rate(d.sse + d.ws + d.poll))
  set('rejected', rate(s.rejectedPerSecond))
  set('rss', bytes(s.rssBytes))
  root.hidden = false
}
