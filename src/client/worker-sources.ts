import type { Http } from './http'
import { delayMs, sleep } from './retry'
import type { Delivery, Settled } from './types'
import type { SettleOp, WorkerSink, WorkerSource } from './worker'
import { frameError, type WsMember, type WsMux } from './ws'

/** Pull: claims that long-poll for up to `waitSec`, settled over HTTP. */
export function pullSource(http: Http, group: string, consumer: string, waitSec: number): WorkerSource {
  const path = `/v1/groups/${encodeURIComponent(group)}`
  return {
    async run(worker, signal) {
      for (let attempt = 0; !signal.aborted; ) {
        const max = await worker.room()
        if (signal.aborted) return
        try {
          const { deliveries } = await http.json<{ deliveries: Delivery[] }>('POST', `${path}/claim`, { body: { consumer, max, wait: waitSec }, signal })
          attempt = 0
          for (const d of deliveries) worker.take(d)
        } catch (error) {
          if (signal.aborted) return
          worker.report(error)
          await sleep(delayMs(attempt++, http.backoff), signal)
        }
      }
    },
    async settle(op: SettleOp, ids: number[], delay?: number) {
      const settled = await http.json<Settled>('POST', `${path}/${op}`, { body: { consumer, ids, delay }, isRetried: true })
      return settled.notHeld
    },
    close() {},
  }
}

/** Push: a consume subscription on the client's WebSocket with `max` credit; settle frames are answered only on failure. */
export function pushSource(mux: WsMux, group: string, consumer: string, max: number): WorkerSource {
  let worker: WorkerSink | undefined
  let isStopped = false
  let refusals = 0
  const member: WsMember = {
    sub: mux.id('c'),
    group,
    start: () => void mux.send({ op: 'consume', sub: member.sub, group, consumer, max }),
    onFrame(frame) {
      if (frame.op === 'delivery') worker?.take(frame as unknown as Delivery)
      else if (frame.op === 'ok') refusals = 0
      else if (frame.op === 'end') worker?.report(new Error(`group "${group}" was deleted`))
      else if (frame.op === 'error') {
        // Either a settle failed (named by group) or the consume was refused (named by sub: asked again later).
        worker?.report(frameError(frame))
        if (frame.sub === member.sub) setTimeout(() => isStopped || member.start(), delayMs(refusals++, mux.backoff))
      }
    },
    onDrop: (error) => worker?.report(error),
  }
  return {
    async run(sink, signal) {
      worker = sink
      mux.add(member)
      await new Promise((resolve) => signal.addEventListener('abort', resolve))
    },
    async settle(op: SettleOp, ids: number[], delay?: number) {
      // A closed socket released its deliveries already: they come back, so there is nothing to settle.
      return mux.send({ op, group, ids, ...(delay !== undefined && { delay }) }) ? [] : ids
    },
    close() {
      isStopped = true
      mux.remove(member)
    },
  }
}
