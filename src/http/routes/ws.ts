import { Elysia } from 'elysia'
import { CLOSE_UNAUTHORIZED, errorFrame, type WsClient } from '../../transports/ws-client'
import type { WsSocket } from '../../transports/ws-context'
import { RingcastError } from '../../core/errors'
import { isSameOrigin } from '../cors'
import { type AppDeps, type Caller, callerOf, noteRefusal, type ServerLike } from '../deps'
import { Problem } from '../schemas'

const WS_DOC = `Multiplexed JSON text frames.
client → server: {"op":"subscribe","sub":"s1","streams":["jobs.*"],"types":[…],"correlationId":…,"after":123} · {"op":"unsubscribe","sub":"s1"} · {"op":"publish","ref":"r1","stream":"jobs.1","type":"…","data":…,"key":…,"terminal":…} · {"op":"ping"}.
server → client: {"op":"event","event":{envelope}} (a replayed event also names its "sub") · {"op":"live","sub"} (a subscribe with after has replayed its history and is live) · {"op":"ok","sub"|"ref",…} · {"op":"gap","sub","after","firstId"} · {"op":"reset","sub","after","lastId"} · {"op":"end","sub"} · {"op":"error","ref"|"sub","error":{"code","message","hint"}} · {"op":"pong"}.
A missing, invalid or expired token is not refused at the upgrade (browsers cannot read its status): the socket opens, gets {"op":"error","error":{"code":"unauthorized","message","hint"}} and is closed with 4001.
An event is sent once per socket even when several subscriptions match it (dispatch by its stream). A subscribe with after replays that subscription's history in full, then joins live delivery with no gap and no duplicate. Bad frames get an error reply; the socket stays. A socket past --buffer-limit is closed with code 4008: reconnect and resubscribe with after = the last id received.
Compression: with --compression all the server negotiates permessage-deflate when the client offers it and deflates frames of 1 KB or more; otherwise frames are plain.
Consumer groups (push): {"op":"consume","sub":"c1","group":"workers","consumer"?:"w1","max":N} → {"op":"ok","sub"} (unknown group: error not_found), then {"op":"delivery","sub","event":{envelope},"attempt":1,"deadline":"ISO time"}; never more than max unsettled per consume. Settle with {"op":"ack"|"extend","group","ids":[…]}, {"op":"nack","group","ids","delay"?}, {"op":"term","group","ids","reason"?} (each may carry a "ref", echoed in its answers): answered on failure ({"op":"error","group","error":{"code":"not_held","ids":[…]}}), and an extend that took ids also with {"op":"ok","group","ids":[…],"deadline":"ISO time"}, the new lease deadline as POST /v1/groups/{group}/extend answers it. Unsubscribing the sub or closing the socket releases what it holds for redelivery at once (attempt counted); deleting the group sends {"op":"end","sub"}.`

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } })

/** /v1/ws as OpenAPI has it: a GET answered 101 (no OpenAPI version has a WebSocket operation; Elysia's own `ws` entry is hidden). */
export const wsPathItem = {
  get: {
    tags: ['subscribe'],
    operationId: 'openWebSocket',
    summary: 'WebSocket: subscribe, publish, ping, consume (consumer groups)',
    description: WS_DOC,
    parameters: [
      { name: 'Upgrade', in: 'header', required: true, schema: { type: 'string', const: 'websocket' } },
      { name: 'access_token', in: 'query', required: false, schema: { type: 'string' }, description: 'Token or ticket: browsers cannot set headers on a WebSocket.' },
    ],
    responses: {
      101: { description: 'Switching Protocols: the socket speaks the JSON frames above; `x-websocket` lists the close codes.' },
      404: problem('Not a WebSocket upgrade (a plain GET finds no route here).'),
      403: problem('Origin not allowed (see --cors-origin).'),
      429: problem('Too many connections for this client.'),
      503: problem('Too many connections.'),
    },
    'x-websocket': {
      frames: 'JSON text, one object per frame',
      closeCodes: {
        1013: 'too many connections: try again later',
        4000: 'closed by an administrator: reconnect and resubscribe with after',
        4001: 'no valid token: refused at connect (right after an error frame with code unauthorized) or token expired; reconnect with a fresh token and resubscribe with after',
        4008: 'past --buffer-limit: reconnect and resubscribe with after',
        4029: 'too many connections for this client',
      },
    },
  },
}

// Elysia wraps the socket anew for every callback, so the client is kept against Bun's own socket.
const clients = new WeakMap<object, WsClient>()
// Authenticated before the upgrade, picked up again at open: the caller, or why its token was refused.
const callers = new WeakMap<Request, Caller | { refusal: RingcastError }>()

interface RawSocket extends WsSocket {
  remoteAddress: string
}

export function wsRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['subscribe'] } }).ws('/v1/ws', {
    detail: { hide: true },
    async beforeHandle({ request, server }) {
      // Browsers do not apply CORS to WebSockets: check the page's origin here.
      const origin = request.headers.get('origin')
      if (origin && !isSameOrigin(request) && !d.origins.allows(origin)) {
        throw new RingcastError('forbidden', `Origin ${origin} may not open a WebSocket here.`, 'Add it to --cors-origin.')
      }
      let caller: Caller
      try {
        caller = await callerOf(d, request, server as ServerLike | null)
      } catch (error) {
        // Browsers cannot read the status of a refused upgrade: a bad token is told inside the socket, at open.
        if (!(error instanceof RingcastError) || error.code !== 'unauthorized') throw error
        noteRefusal(d, error, request)
        return void callers.set(request, { refusal: error })
      }
      // Refuse with 503/429 before upgrading; open() still checks, for upgrades racing each other.
      d.connections.checkRoom(caller.client)
      callers.set(request, caller)
    },
    open(ws) {
      const raw = ws.raw as unknown as RawSocket
      const caller = callers.get(ws.data.request)
      callers.delete(ws.data.request)
      if (!caller) return raw.close(CLOSE_UNAUTHORIZED, 'not authenticated')
      if ('refusal' in caller) {
        raw.send(JSON.stringify(errorFrame({}, caller.refusal)))
        return raw.close(CLOSE_UNAUTHORIZED, caller.refusal.message.slice(0, 120))
      }
      try {
        clients.set(raw, d.ws.open(raw, raw.remoteAddress, { client: caller.client, grants: caller.grants, expiresAtMs: caller.grants.expiresAtMs }))
      } catch (error) {
        const code = (error as { code?: string }).code === 'too_many_client_connections' ? 4029 : 1013
        raw.close(code, (error as Error).message.slice(0, 120))
      }
    },
    message(ws, message) {
      const client = clients.get(ws.raw)
      if (client) d.ws.message(client, message)
    },
    drain(ws) {
      const client = clients.get(ws.raw)
      if (client) d.ws.drain(client)
    },
    close(ws) {
      const client = clients.get(ws.raw)
      if (client) d.ws.close(client)
      clients.delete(ws.raw)
    },
  })
}
