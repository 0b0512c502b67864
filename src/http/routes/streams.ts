import { Elysia, t } from 'elysia'
import { RingcastError } from '../../core/errors'
import { assertPattern } from '../../core/pattern'
import type { StreamState } from '../../core/streams'
import { canSubscribe } from '../../auth/grants'
import { type AppDeps, authenticate, authenticateBeforeParse } from '../deps'
import { queryReader } from '../query'
import { streamOf } from '../params'
import { Problem, StreamConfig, StreamInfo, StreamList, StreamListQuery, StreamParams } from '../schemas'

const readListQuery = queryReader(StreamListQuery)

export function streamInfo(d: AppDeps, s: StreamState) {
  return {
    stream: s.name,
    events: s.events,
    firstId: s.firstId,
    lastId: s.lastId,
    closed: s.record.closed,
    ephemeral: s.record.ephemeral,
    ringSize: s.settings.ringSize,
    maxEvents: s.settings.maxEvents,
    maxAgeSeconds: s.settings.maxAgeSeconds,
    subscribers: d.hub.subscriberCount(s.name),
    eventsPerSecond: s.eventsPerSecond(),
  }
}

function known(d: AppDeps, name: string): StreamState {
  const state = d.hub.streams.get(streamOf(name))
  if (!state) throw new RingcastError('not_found', `No stream "${name}".`, 'A stream exists once something is published to it or it is configured with PUT.')
  return state
}

export function streamRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['streams'] } })
    .onParse(authenticateBeforeParse(d))
    .derive(authenticate(d))
    .get(
      '/v1/streams',
      ({ request, caller: { grants } }) => {
        const query = readListQuery(request.url)
        const candidates = query.pattern ? d.hub.streams.matching([assertPattern(query.pattern)]) : [...d.hub.streams.all()]
        // Tenants see only the streams their token may subscribe to.
        const names = candidates.filter((s) => grants.isAdmin || canSubscribe(grants, s.name)).map((s) => s.name)
        names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        const from = query.after === undefined ? 0 : upperBound(names, query.after)
        const limit = query.limit ?? 1000
        const page = names.slice(from, from + limit)
        const streams = page.map((name) => streamInfo(d, d.hub.streams.get(name)!))
        return { streams, total: names.length, next: from + limit < names.length ? page[page.length - 1] : null }
      },
      {
        response: { 200: StreamList, 400: Problem, 401: Problem },
        detail: {
          summary: 'List streams with their stats, by name, a page at a time',
          description: 'Streams the token may subscribe to, sorted by name. `total` counts every stream that matches; pass `next` as `after` for the following page (`next` is null on the last page).',
        },
      },
    )
    .get(
      '/v1/streams/:stream',
      ({ params, caller: { grants } }) => {
        d.auth.requireSubscribe(grants, [streamOf(params.stream)])
        return streamInfo(d, known(d, params.stream))
      },
      {
        params: StreamParams,
        response: { 200: StreamInfo, 404: Problem },
        detail: { summary: 'One stream: retained events, first/last id, settings, subscribers' },
      },
    )
    .put(
      '/v1/streams/:stream',
      ({ params, body, caller: { grants } }) => {
        d.auth.requireAdmin(grants)
        const state = d.hub.configure(streamOf(params.stream), body)
        return streamInfo(d, state)
      },
      {
        params: StreamParams,
        body: StreamConfig,
        response: { 200: StreamInfo, 400: Problem },
        detail: { summary: 'Configure a stream (creates it)', description: 'Ring size, retention (max events, max age) and whether the stream is ephemeral (ring only, never written to SQLite).' },
      },
    )
    .delete(
      '/v1/streams/:stream',
      ({ params, set, caller: { grants } }) => {
        d.auth.requireAdmin(grants)
        known(d, params.stream)
        d.hub.delete(streamOf(params.stream))
        set.status = 204
      },
      { params: StreamParams, detail: { summary: 'Delete a stream and its history', description: 'Subscriptions naming exactly it end. Ids are never reused.' } },
    )
}

/** Index of the first name sorting after `name`. */
function upperBound(sorted: readonly string[], name: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] <= name) lo = mid + 1
    else hi = mid
  }
  return lo
}
