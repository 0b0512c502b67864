import type { WsRules } from '../transports/ws'
import { filterOf } from './params'

/** WebSocket frames follow the same naming and publish rules as the HTTP routes. */
export const wsRules: WsRules = {
  filter: (streams, types, correlationId) => filterOf(streams, types, correlationId),
  async publish(hub, frame) {
    const { op: _op, ref: _ref, stream, type, ...rest } = frame
    const [result] = await hub.publish(stream, [{ ...rest, type: type ?? 'message' }])
    return { id: result.duplicate ? result.id : result.event.id, duplicate: result.duplicate }
  },
}
