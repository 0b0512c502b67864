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
    settle(op: SettleOp, id: number, delay?: number) {
      return http.json<Settled>('POST', `${path}/${op}`, { body: { consumer, ids: [id], delay }, isRetried: true })
    },
    async close() {},
  }
}

/**
 * Push: a consume subscription on the client's WebSocket with `max` credit. Ack, nack and term are
 * answered only when they fail (named by group); an extend carries the consumer's sub as `ref`, and
 * its answer (the new deadline, or not held) comes back under it.
 */
export function pushSource(mux: WsMux, group: string, consumer: string, max: number): WorkerSource {
  let worker: WorkerSink | undefined
  let isStopped = false
  let refusals = 0
  // Extends waiting for their answer, by event id; and the pong that ends close().
  const extending = new Map<number, (settled: Settled) => void>()
  let pong: (() => void) | undefined
  const answer = (id: number, settled: Settled) => {
    extending.get(id)?.(settled)
    extending.delete(id)
  }
  const member: WsMember = {
    sub: mux.id('c'),
    group,
    start: () => void mux.send({ op: 'consume', sub: member.sub, group, consumer, max }),
    onFrame(frame) {
      const isAnswer = frame.ref === member.sub
      if (frame.op === 'delivery') worker?.take(frame as unknown as Delivery)
      else if (frame.op === 'ok' && isAnswer) for (const id of frame.ids as number[]) answer(id, { ok: [id], notHeld: [], deadline: frame.deadline as string })
      else if (frame.op === 'ok') refusals = 0
      else if (frame.op === 'pong') pong?.()
      else if (frame.op === 'end') worker?.report(new Error(`group "${group}" was deleted`))
      // An extend not held: the worker reports it.
      else if (frame.op === 'error' && isAnswer) for (const id of frame.error?.ids ?? []) answer(id, { ok: [], notHeld: [id] })
      else if (frame.op === 'error') {
        // Either an ack, nack or term failed (named by group) or the consume was refused (named by sub: asked again later).
        worker?.report(frameError(frame))
        if (frame.sub === member.sub) setTimeout(() => isStopped || member.start(), delayMs(refusals++, mux.backoff))
      }
    },
    onDrop: (error) => {
      // The server released what the socket held: there is nothing left to extend.
      for (const id of [...extending.keys()]) answer(id, { ok: [], notHeld: [id] })
      pong?.()
      worker?.report(error)
    },
  }
  return {
    async run(sink, signal) {
      worker = sink
      mux.add(member)
      await new Promise((resolve) => signal.addEventListener('abort', resolve))
    },
    settle(op: SettleOp, id: number, delay?: number) {
      const frame = { op, group, ids: [id], ...(op === 'extend' && { ref: member.sub }), ...(delay !== undefined && { delay }) }
      // A closed socket released its deliveries already: they come back, so there is nothing to settle.
      if (!mux.send(frame)) return Promise.resolve({ ok: [], notHeld: [id] })
      if (op !== 'extend') return Promise.resolve({ ok: [id], notHeld: [] })
      return new Promise((resolve) => extending.set(id, resolve))
    },
    async close() {
      isStopped = true
      // Frames are read in order: the pong means the server has read every settle before it.
      await new Promise<void>((resolve) => {
        pong = resolve
        if (!mux.send({ op: 'ping', ref: member.sub })) resolve()
      })
      mux.remove(member)
    },
  }
}
