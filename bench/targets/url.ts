import type { Target, TargetSpec } from './target.ts'
import { fill } from './target.ts'

/** --target mode: any SSE server, described by URL templates ({stream}) and a publish body template ({data}). */
export function urlTarget(spec: TargetSpec): Target {
  const sse = spec.sse!, publish = spec.publish!, body = spec.publishBody ?? '{data}'
  return {
    name: new URL(sse).host,
    caps: { ws: !!spec.ws, poll: false, pattern: false, batch: false, wsResume: false },
    publish: (stream, data) => ({ url: fill(publish, { stream }), headers: { 'content-type': 'application/json' }, body: fill(body, { data }) }),
    sse(streams, lastId) {
      const headers: Record<string, string> = { accept: 'text/event-stream' }
      if (lastId !== null) headers['last-event-id'] = lastId
      return { url: fill(sse, { stream: streams[0] }), headers }
    },
    wsUrl: spec.ws ? (streams) => fill(spec.ws!, { stream: streams[0] }) : undefined,
    wsHello: () => null,
    wsFrame: (text) => ({ kind: 'event', text, id: null }),
  }
}
