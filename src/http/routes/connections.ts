import { Elysia, t } from 'elysia'
import { RingcastError } from '../../core/errors'
import type { Connection } from '../../transports/connections'
import { type AppDeps, callerOf, type ServerLike } from '../deps'
import { ConnectionInfo, Problem } from '../schemas'

function info(c: Connection) {
  return {
    id: c.id,
    transport: c.transport,
    remote: c.remote,
    patterns: c.patterns(),
    delivered: c.delivered,
    lastEventTime: c.lastEventAt === null ? null : new Date(c.lastEventAt).toISOString(),
    bufferedBytes: c.bufferedBytes(),
    connectedAt: new Date(c.connectedAt).toISOString(),
  }
}

function known(d: AppDeps, id: string): Connection {
  const c = d.connections.get(id)
  if (!c) throw new RingcastError('not_found', `No live connection "${id}".`, 'List them with GET /v1/connections.')
  return c
}

export function connectionRoutes(d: AppDeps) {
  const params = t.Object({ id: t.String() })
  return new Elysia({ detail: { tags: ['admin'] } })
    .onBeforeHandle(async ({ request, server }) => {
      d.auth.requireAdmin((await callerOf(d, request, server as ServerLike | null)).grants)
    })
    .get('/v1/connections', () => ({ node: d.node.name, connections: [...d.connections.all()].map(info) }), {
      response: {
        200: t.Object({ node: t.String({ description: 'The node answering (--node, or host:port): the list holds its connections only.' }), connections: t.Array(ConnectionInfo) }),
        401: Problem,
        403: Problem,
      },
      detail: { summary: 'Live connections (SSE, WebSocket, long-poll)' },
    })
    .get('/v1/connections/:id', ({ params }) => info(known(d, params.id)), {
      params,
      response: { 200: ConnectionInfo, 404: Problem },
      detail: { summary: 'One live connection' },
    })
    .delete(
      '/v1/connections/:id',
      ({ params, set }) => {
        known(d, params.id).close('closed by an administrator', 4000)
        set.status = 204
      },
      { params, detail: { summary: 'Disconnect a connection', description: 'The client may reconnect and resume by id.' } },
    )
}
