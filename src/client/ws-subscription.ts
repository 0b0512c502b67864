import { queryOf, selects } from './filter'
import type { Http } from './http'
import type { Subscription } from './subscription'
import type { Envelope, Gap, Reset } from './types'
import { frameError, type WsFrame, type WsMember, type WsMux } from './ws'

/** Poll pages of the catch-up; a page this full means more may be waiting. */
const PAGE = 1000

/**
 * Follows a subscription on the client's shared WebSocket, resubscribed with `after` on every
 * reopened socket. A socket sends each event once, so subscriptions pick theirs from every event
 * frame; replayed frames name no subscription, so two rules keep each one exact:
 * - frames that came before the server's `ok` were sent before the subscription existed, and its
 *   replay holds whichever of them it selects: they are not taken;
 * - the server replays in one go only up to a page, so a backlog is read over HTTP first.
 */
export function followWs(sub: Subscription, mux: WsMux, http: Http): void {
  let isLive = false
  let attempt = 0
  const member: WsMember = {
    sub: mux.id('s'),
    start: () => {
      const started = ++attempt
      void catchUp(started).then((isCurrent) => {
        const { streams, types, correlationId } = sub.filter
        if (isCurrent) mux.send({ op: 'subscribe', sub: member.sub, streams, types, correlationId, after: sub.position })
      })
    },
    onEvent: (event: Envelope) => {
      if (isLive && selects(sub.filter, event)) sub.deliver(event)
    },
    onFrame: (frame: WsFrame) => {
      if (frame.op === 'ok') {
        isLive = true
        sub.setState('open')
      } else if (frame.op === 'gap') sub.gap({ after: frame.after, firstId: frame.firstId } as Gap)
      else if (frame.op === 'reset') sub.reset({ after: frame.after, lastId: frame.lastId } as Reset)
      else if (frame.op === 'end' || frame.op === 'error') {
        mux.remove(member, true)
        sub.end(frame.op === 'error' ? frameError(frame) : null)
      }
    },
    onDrop: (error) => {
      isLive = false
      if (!error.isTransient) return sub.end(error)
      if (sub.state === 'open') sub.setState('reconnecting')
      sub.report(error)
    },
  }

  /** Reads what is waiting over HTTP; false once superseded by a later start (the socket reopened) or ended. */
  async function catchUp(started: number): Promise<boolean> {
    try {
      for (let isFull = true; isFull && started === attempt; ) {
        await sub.ready()
        const page = await http.json<{ events: Envelope[]; gap?: Gap; reset?: Reset }>('GET', `/v1/events?${queryOf(sub.filter, { after: sub.position, limit: PAGE })}`, { isRetried: true, retries: Infinity, signal: sub.signal, onRetry: (e) => sub.report(e) })
        if (page.reset) sub.reset(page.reset)
        if (page.gap) sub.gap(page.gap)
        for (const event of page.events) sub.deliver(event)
        isFull = page.events.length === PAGE
      }
    } catch (error) {
      sub.end(error as Error)
    }
    return started === attempt && !sub.signal.aborted
  }

  sub.signal.addEventListener('abort', () => mux.remove(member))
  // Caught up before the socket opens, so a refused token or pattern ends the subscription with its HTTP status.
  void catchUp(attempt).then((isCurrent) => isCurrent && mux.add(member))
}
