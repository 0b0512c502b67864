import { Elysia, t } from 'elysia'
import { canSubscribe } from '../../auth/grants'
import type { PublishResult } from '../../core/hub'
import { PublishItem } from '../../transports/wire'
import { type AppDeps, callerOf, type ServerLike } from '../deps'
import { streamOf } from '../params'
import { parsePublishBody, readBody } from '../publish-body'
import { publishAs, requireClientWritable } from '../publishing'
import { DuplicateRef, Problem, StoredEvent, StreamInfo, StreamParams } from '../schemas'
import { streamInfo } from './streams'

// One Headers object that each Response copies: cheaper than a plain object it must convert every time.
const json = new Headers({ 'Content-Type': 'application/json' })

/**
 * The stored event as JSON, straight from its encoded envelope. A dedup hit is flagged, and shows the
 * original's content only to a caller that may read the stream: a key must not be a way to read it.
 */
function resultJson(r: PublishResult, stream: string, mayRead: boolean): string {
  if (!r.duplicate) return r.event.json
  if (!r.event || !mayRead) return `{"id":${r.id},"stream":${JSON.stringify(stream)},"duplicate":true}`
  return `${r.event.json.slice(0, -1)},"duplicate":true}`
}

/** POST /v1/streams/{stream}/events: `stream` from the path, not yet checked. */
export async function publishEvents(d: AppDeps, name: string, request: Request, server: ServerLike | null): Promise<Response> {
  const caller = await callerOf(d, request, server)
  const stream = streamOf(name)
  // Refused before the body is read: a client without the grant costs no upload.
  d.auth.requirePublish(caller.grants, stream)
  const text = await readBody(request, d.config.maxPayload)
  const { items, isBatch } = parsePublishBody(text, request.headers.get('content-type') ?? '', request.headers.get('idempotency-key'), d.config.maxBatch)
  const results = await publishAs(d, caller, stream, items)
  const status = results.every((r) => r.duplicate) ? 200 : 201
  const mayRead = canSubscribe(caller.grants, stream)
  const body = isBatch ? `[${results.map((r) => resultJson(r, stream, mayRead)).join(',')}]` : resultJson(results[0], stream, mayRead)
  return new Response(body, { status, headers: json })
}

export function publishRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['publish'] } })
    .post(
      '/v1/streams/:stream/events',
      ({ params, request, server }) => publishEvents(d, params.stream, request, server as ServerLike | null),
      {
        parse: 'none',
        params: StreamParams,
        detail: {
          summary: 'Publish events',
          description:
            'Publish one event (JSON object), a batch (JSON array or application/x-ndjson), or a plain-text body (`data` is the text). ' +
            'Answers only after the events are committed to SQLite. An event whose `key` (or `Idempotency-Key` header; for a batch `KEY:index`) was seen within the dedup window is not stored again: 200 with the original and `duplicate: true`. ' +
            'An event with `terminal: true` closes the stream after it. 409 if the stream is closed, 413 past --max-payload or --max-batch.',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: t.Union([PublishItem, t.Array(PublishItem)]) as never, example: { type: 'stage_completed', data: { stage: 'render', status: 'ok' } } },
              'application/x-ndjson': { schema: { type: 'string' }, example: '{"type":"log","data":"line 1"}\n{"type":"log","data":"line 2"}\n' },
              'text/plain': { schema: { type: 'string' }, example: 'build started' },
            },
          },
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' }, description: 'Dedup key for a single event (batch: KEY:index per event).' }],
          responses: {
            201: { description: 'Stored: the event, or an array for a batch.', content: { 'application/json': { schema: t.Union([StoredEvent, t.Array(StoredEvent)]) as never } } },
            200: {
              description: 'Every event was a duplicate: the originals with `duplicate: true` (only `{id, stream, duplicate}` when the token may not subscribe to the stream).',
              content: { 'application/json': { schema: t.Union([StoredEvent, DuplicateRef, t.Array(t.Union([StoredEvent, DuplicateRef]))]) as never } },
            },
            400: { description: 'Malformed or invalid body.', content: { 'application/problem+json': { schema: Problem as never } } },
            401: { description: 'No valid token.', content: { 'application/problem+json': { schema: Problem as never } } },
            403: { description: 'The token may not publish to this stream.', content: { 'application/problem+json': { schema: Problem as never } } },
            429: { description: 'Publish rate limit (Retry-After says when to retry).', content: { 'application/problem+json': { schema: Problem as never } } },
            409: { description: 'The stream is closed.', content: { 'application/problem+json': { schema: Problem as never } } },
            413: { description: 'Body or batch too large.', content: { 'application/problem+json': { schema: Problem as never } } },
          },
        },
      },
    )
    .post(
      '/v1/streams/:stream/close',
      async ({ params, request, server }) => {
        const { grants } = await callerOf(d, request, server as ServerLike | null)
        const stream = streamOf(params.stream)
        d.auth.requirePublish(grants, stream)
        requireClientWritable(stream)
        await d.hub.close(stream)
        return streamInfo(d, d.hub.stream(stream)!)
      },
      {
        params: StreamParams,
        response: { 200: StreamInfo, 400: Problem, 401: Problem, 403: Problem },
        detail: { summary: 'Close a stream', description: 'Subscribers naming exactly this stream get everything published before, then `event: end`; later publishes get 409. Closing a closed stream changes nothing.' },
      },
    )
}
