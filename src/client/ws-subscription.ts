import { selects } from './filter'
import type { Subscription } from './subscription'
import type { Envelope, Gap, Reset } from './types'
import { frameError, type WsFrame, type WsMember, type WsMux } from './ws'

/** Follows a subscription on the client's shared WebSocket: resubscribed with `after` on every reopened socket. */
export function followWs(sub: Subscription, mux: WsMux): void {
  const member: WsMember = {
    sub: mux.id('s'),
    start: () => ({ op: 'subscribe', sub: member.sub, streams: sub.filter.streams, types: sub.filter.types, correlationId: sub.filter.correlationId, after: sub.position }),
    onEvent: (event: Envelope) => {
      if (selects(sub.filter, event)) sub.deliver(event)
    },
    onFrame: (frame: WsFrame) => {
      if (frame.op === 'ok') sub.setState('open')
      else if (frame.op === 'gap') sub.gap({ after: frame.after, firstId: frame.firstId } as Gap)
      else if (frame.op === 'reset') sub.reset({ after: frame.after, lastId: frame.lastId } as Reset)
      else if (frame.op === 'end' || frame.op === 'error') {
        mux.remove(member, true)
        sub.end(frame.op === 'error' ? frameError(frame) : null)
      }
    },
    onDrop: (error) => {
      sub.setState('reconnecting')
      sub.report(error)
    },
  }
  sub.signal.addEventListener('abort', () => mux.remove(member))
  mux.add(member)
}
