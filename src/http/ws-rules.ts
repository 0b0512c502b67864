import type { Auth } from '../auth/auth'
import type { WsRules } from '../transports/ws'
import { filterOf } from './params'
import type { PublishRate } from './publish-rate'

/** WebSocket frames follow the same naming, grant and rate rules as the HTTP routes. */
export function wsRules(auth: Auth, rate: PublishRate): WsRules {
  return {
    filter(identity, streams, types, correlationId) {
      const filter = filterOf(streams, types, correlationId)
      auth.requireSubscribe(identity.grants, filter.patterns)
      return filter
    },
    async publish(identity, hub, frame) {
      const { op: _op, ref: _ref, stream, type, ...rest } = frame
      auth.requirePublish(identity.grants, stream)
      rate.take(identity.client, 1)
      const [result] = await hub.publish(stream, [{ ...rest, type: type ?? 'message' }])
      return { id: result.duplicate ? result.id : result.event.id, duplicate: result.duplicate }
    },
  }
}
