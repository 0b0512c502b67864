import type { Static } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import { RingcastError } from '../../core/errors'
import type { PollPage as Page } from '../../transports/poll'
import { BODY_ENCODINGS, bodyResponse, negotiate, streamResponse } from '../compression'
import { type AppDeps, callerOf, keepOpen, type ServerLike } from '../deps'
import { filterOf, positionOf, sinceOf, streamOf } from '../params'
import { queryReader } from '../query'
import { EventsQuery, PollPage, Problem, StreamEventsQuery } from '../schemas'

// Shared by every page: a Response copies a Headers object faster than it converts a plain one.
const VARY = { Vary: 'Accept-Encoding' }
const PAGE = new Headers({ 'Content-Type': 'application/json' })
const PAGE_VARY = new Headers({ 'Content-Type': 'application/json', ...VARY })

const readStreamQuery = queryReader(StreamEventsQuery)
const readEventsQuery = queryReader(EventsQuery)

const SSE_DOC =
  'With `Accept: text/event-stream`: Server-Sent Events. Headers and `retry:` are flushed at once; each event is `id: <id>`, `event: <type>` (omitted for `message`), one `data:` line with the envelope. ' +
  'Starts live unless `Last-Event-ID` or `after` is given (`after=0` replays all retained history). `: hb` comments every `heartbeat` seconds. ' +
  'Control events: `gap` `{after, firstId}` when retention removed part of the requested history; `reset` `{after, lastId}` for a position never issued; `end` when the stream closes (then the response ends). ' +
  'A closed stream with nothing left to replay answers 204, which stops EventSource. ' +
  'With `Accept: application/x-ndjson`: export of every retained event after `after`, one envelope per line. ' +
  'Otherwise JSON polling: `{events, next, closed, gap?, reset?}`; with neither `after` nor `since` the latest `limit` events; `wait` long-polls; `before=ID` pages backwards (the `limit` events before ID, oldest first). ' +
  '`timeout` ends an SSE subscription that received no event for that many seconds with `event: end` `{"reason":"timeout"}`. ' +
  'Compression (`Accept-Encoding`): SSE in gzip, flushed with every write; polling pages and exports of 1 KB or more in zstd, br or gzip.'

/** One stream (`stream` from the path, not yet checked) or, with null, the streams and patterns of `?stream=`. */
export async function readEvents(d: AppDeps, stream: string | null, request: Request, server: ServerLike | null): Promise<Response> {
  // Authenticated before anything is checked: an anonymous caller learns nothing about the query's rules.
  const caller = await callerOf(d, request, server)
  const q: Static<typeof StreamEventsQuery> & { stream?: string[] } = stream === null ? readEventsQuery(request.url) : readStreamQuery(request.url)
  const filter = filterOf(stream === null ? q.stream! : [streamOf(stream)], q.types, q.correlationId)
  const { grants } = caller
  d.auth.requireSubscribe(grants, filter.patterns)
  const accept = request.headers.get('accept') ?? ''
  const isCompressing = d.config.compression !== 'off'
  const acceptEncoding = isCompressing ? request.headers.get('accept-encoding') : null
  const vary: Record<string, string> = isCompressing ? VARY : {}
  if (accept.includes('text/event-stream')) {
    refuseBefore(q, 'an SSE subscription')
    const position = positionOf(request.headers.get('last-event-id'), q.after)
    const idleTimeout = Math.min(q.timeout ?? Infinity, d.config.idleTimeout ?? Infinity)
    keepOpen(server, request)
    return d.sse.open({
      filter,
      position,
      heartbeatMs: (q.heartbeat ?? d.config.heartbeat) * 1000,
      slow: q.slow ?? 'close',
      idleTimeoutMs: idleTimeout === Infinity ? null : idleTimeout * 1000,
      encoding: negotiate(acceptEncoding, ['gzip'] as const),
      remote: caller.remote,
      client: caller.client,
      expiresAtMs: grants.expiresAtMs,
      signal: request.signal,
    })
  }
  const encoding = negotiate(acceptEncoding, BODY_ENCODINGS)
  if (accept.includes('application/x-ndjson')) {
    refuseBefore(q, 'an export')
    return streamResponse(d.poll.export(filter, q.after ?? 0), encoding, { 'Content-Type': 'application/x-ndjson', ...vary })
  }
  if (q.before !== undefined) {
    const clash = q.after !== undefined ? 'after' : q.since !== undefined ? 'since' : q.wait ? 'wait' : null
    if (clash) throw new RingcastError('invalid_request', `before cannot be combined with ${clash}.`, 'before pages backwards from an id; after and since page forwards and wait waits for new events: give one of them.')
  }
  if (q.wait) keepOpen(server, request)
  const page = await d.poll.page({
    filter,
    after: q.after ?? null,
    before: q.before ?? null,
    sinceMs: sinceOf(q.since),
    limit: q.limit ?? 100,
    waitMs: (q.wait ?? 0) * 1000,
    caller,
    expiresAtMs: grants.expiresAtMs,
    signal: () => request.signal,
  })
  return bodyResponse(pageJson(page), encoding, isCompressing ? PAGE_VARY : PAGE)
}

/** `before` pages a poll backwards; streams and exports move forwards only. */
function refuseBefore(q: { before?: number }, what: string): void {
  if (q.before !== undefined) throw new RingcastError('invalid_request', `before pages a poll; it does not apply to ${what}.`, 'Poll with before (Accept: application/json); subscribe or export with after.')
}

/** The page as JSON, splicing in each event's encoded envelope. */
function pageJson(page: Page): string {
  let json = `{"events":[${page.events.map((e) => e.json).join(',')}],"next":${page.next},"closed":${page.closed}`
  if (page.gap) json += `,"gap":${JSON.stringify(page.gap)}`
  if (page.reset) json += `,"reset":${JSON.stringify(page.reset)}`
  return `${json}}`
}

const responses = {
  200: { description: 'A polling page (JSON), an SSE stream (text/event-stream) or an export (application/x-ndjson).', content: { 'application/json': { schema: PollPage as never }, 'text/event-stream': { schema: { type: 'string' }, example: 'id: 7\nevent: stage_completed\ndata: {"id":7,"stream":"jobs.42","type":"stage_completed","data":{"stage":"render"},"time":"2026-11-22T04:00:00.000Z"}\n\n' }, 'application/x-ndjson': { schema: { type: 'string' } } } },
  204: { description: 'SSE on a closed stream with nothing left to replay.' },
  400: { description: 'Bad name, pattern or query value.', content: { 'application/problem+json': { schema: Problem as never } } },
}

export function eventRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['subscribe'] } })
    .get('/v1/streams/:stream/events', ({ params, request, server }) => readEvents(d, params.stream, request, server as ServerLike | null), {
      detail: { summary: "Subscribe to or poll one stream's events", description: SSE_DOC, responses: responses as never },
    })
    .get('/v1/events', ({ request, server }) => readEvents(d, null, request, server as ServerLike | null), {
      detail: { summary: 'Subscribe to or poll several streams and patterns at once', description: `An event matching several patterns is delivered once. ${SSE_DOC}`, responses: responses as never },
    })
}
