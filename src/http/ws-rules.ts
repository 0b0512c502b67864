import type { WsRules } from '../transports/ws'
import type { AppDeps } from './deps'
import { filterOf } from './params'
import { publishAs } from './publishing'

/** WebSocket frames follow the same naming, grant, depth and rate rules as the HTTP routes. */
export function wsRules(d: Pick<AppDeps, 'auth' | 'publishRate' | 'hub' | 'config'>): WsRules {
  return {
    filter(identity, streams, types, correlationId) {
      const filter = filterOf(streams, types, correlationId)
      d.auth.requireSubscribe(identity.grants, filter.patterns)
      return filter
    },
    async publish(identity, frame) {
      const { op: _op, ref: _ref, stream, type, ...rest } = frame
      const [result] = await publishAs(d, identity, stream, [{ ...rest, type: type ?? 'message' }])
      return { id: result.duplicate ? result.id : result.event.id, duplicate: result.duplicate }
    },
  }
}
