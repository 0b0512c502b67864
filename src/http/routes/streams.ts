import { Elysia, t } from 'elysia'
import { RingcastError } from '../../core/errors'
import { assertPattern, matches } from '../../core/pattern'
import type { StreamState } from '../../core/streams'
import { canSubscribe } from '../../auth/grants'
import { type AppDeps, callerOf, type ServerLike } from '../deps'
import { streamOf } from '../params'
import { Problem, StreamConfig, StreamInfo, StreamParams } from '../schemas'

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
  }
}

function known(d: AppDeps, name: string): StreamState {
  const state = d.hub.streams.get(streamOf(name))
  if (!state) throw new RingcastError('not_found', `No stream "${name}".`, 'A stream exists once something is published to it or it is configured with PUT.')
  return state
}

export function streamRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['streams'] } })
    .get(
      '/v1/streams',
      async ({ query, request, server }) => {
        if (query.pattern) assertPattern(query.pattern)
        const { grants } = await callerOf(d, request, server as ServerLike | null)
        const streams = []
        for (const s of d.hub.streams.all()) {
          // Tenants see only the streams their token may subscribe to.
          if (query.pattern && !matches(query.pattern, s.name)) continue
          if (grants.isAdmin || canSubscribe(grants, s.name)) streams.push(streamInfo(d, s))
        }
        streams.sort((a, b) => a.stream.localeCompare(b.stream))
        return { streams }
      },
      {
        query: t.Object({ pattern: t.Optional(t.String({ description: 'Only streams matching this pattern.' })) }, { additionalProperties: true }),
        response: { 200: t.Object({ streams: t.Array(StreamInfo) }), 400: Problem, 401: Problem },
        detail: { summary: 'List streams with their stats' },
      },
    )
    .get(
      '/v1/streams/:stream',
      async ({ params, request, server }) => {
        const { grants } = await callerOf(d, request, server as ServerLike | null)
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
      async ({ params, body, request, server }) => {
        d.auth.requireAdmin((await callerOf(d, request, server as ServerLike | null)).grants)
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
      async ({ params, set, request, server }) => {
        d.auth.requireAdmin((await callerOf(d, request, server as ServerLike | null)).grants)
        known(d, params.stream)
        d.hub.delete(streamOf(params.stream))
        set.status = 204
      },
      { params: StreamParams, detail: { summary: 'Delete a stream and its history', description: 'Subscriptions naming exactly it end. Ids are never reused.' } },
    )
}
