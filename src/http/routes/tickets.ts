import { Type as T } from '@sinclair/typebox'
import { Elysia, t } from 'elysia'
import { RingcastError } from '../../core/errors'
import { assertPattern } from '../../core/pattern'
import { type AppDeps, authenticate, authenticateBeforeParse } from '../deps'
import { Problem } from '../schemas'

const TicketRequest = t.Object(
  {
    subscribe: t.Array(t.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 64, description: 'Patterns the ticket may subscribe to; each must be within the token\'s subscribe grants.' }),
    ttl: t.Optional(T.Integer({ minimum: 1, maximum: 600, default: 60, description: 'Seconds the ticket may be used to open connections (max 600).' })),
  },
  { additionalProperties: false, examples: [{ subscribe: ['team.7.job.42'], ttl: 60 }] },
)

export function ticketRoutes(d: AppDeps) {
  return new Elysia({ detail: { tags: ['auth'] } }).onParse(authenticateBeforeParse(d))
    .derive(authenticate(d)).post(
    '/v1/tickets',
    ({ body, set, caller: { grants } }) => {
      if (grants.isTicket) {
        throw new RingcastError('forbidden', 'A ticket cannot be traded for another ticket.', 'Use your token.')
      }
      for (const p of body.subscribe) assertPattern(p)
      d.auth.requireSubscribe(grants, body.subscribe)
      set.status = 201
      return d.auth.tickets.mint(grants, body.subscribe, body.ttl ?? 60)
    },
    {
      body: TicketRequest,
      response: { 201: t.Object({ ticket: t.String(), expires: t.String({ format: 'date-time' }) }), 401: Problem, 403: Problem },
      detail: {
        summary: 'Trade a token for a short-lived subscribe-only ticket',
        description:
          'Tokens in URLs leak into proxy logs. A ticket is URL-safe, lives `ttl` seconds (default 60, max 600), grants only subscribing to the patterns asked for, and is used like a token: `?access_token=<ticket>` on EventSource or WebSocket URLs. Connections it opens end when the original token expires.',
      },
    },
  )
}
