import { Emitter } from './emitter'
import { RingcastError } from './errors'
import type { Backoff } from './retry'
import type { Delivery, Envelope, Settled } from './types'

export interface WorkerOptions {
  /** Name of this worker in the group (default: a random one). */
  consumer?: string
  /** Handlers running at once (default 1). */
  concurrency?: number
  /** `pull`: HTTP claims that long-poll; `ws`: deliveries pushed on the client's WebSocket. Default: `ws` when the client's transport is. */
  transport?: 'pull' | 'ws'
  /** Seconds a pull claim waits for work (default 20). */
  waitSec?: number
  /** Delay before a failed event is offered again, doubling per attempt (default 1 s to 60 s). */
  retryDelay?: Backoff
}

/** What the handler is told about a delivery. */
export interface DeliveryInfo {
  group: string
  consumer: string
  /** 1 on first delivery, +1 on each redelivery. */
  attempt: number
  /** ISO time the lease ends unless extended (the worker extends it while the handler runs). */
  deadline: string
}

/** Handles one event: resolve to ack it, throw to have it offered again later (or dead-lettered at its last attempt). */
export type Handler = (event: Envelope, delivery: DeliveryInfo) => unknown

/** @internal */
export type SettleOp = 'ack' | 'nack' | 'extend'

/** @internal What a source feeds: the worker. */
export interface WorkerSink {
  take(delivery: Delivery): void
  /** Resolves to the free slots (never 0 unless stopping). */
  room(): Promise<number>
  report(error: unknown): void
}

/** @internal How deliveries arrive and are settled: HTTP claims or WebSocket push. */
export interface WorkerSource {
  /** Feeds deliveries to the worker until `signal` aborts. */
  run(worker: WorkerSink, signal: AbortSignal): Promise<void>
  /** Settles one id; resolves to what the server did: taken (`ok`; an extend with its new `deadline`) or not held. */
  settle(op: SettleOp, id: number, delaySec?: number): Promise<Settled>
  /** Called once every handler has finished; resolves once the server has read every settle. */
  close(): Promise<void>
}

/** Runs a handler over a consumer group's deliveries, `concurrency` at a time, and settles each. */
export class Worker {
  private readonly emitter = new Emitter<{ error: Error }>()
  private readonly running = new Set<Promise<void>>()
  private readonly stopper = new AbortController()
  private readonly loop: Promise<void>
  private freed: (() => void) | undefined
  private stopped: Promise<void> | undefined

  /** @internal */
  constructor(
    readonly group: string,
    readonly consumer: string,
    private readonly handler: Handler,
    private readonly source: WorkerSource,
    private readonly concurrency: number,
    private readonly retryDelay: Backoff,
  ) {
    this.loop = source.run({ take: (d) => this.take(d), room: () => this.room(), report: (e) => this.report(e) }, this.stopper.signal)
  }

  /** Errors: a handler that threw, a claim or settle that failed (the worker goes on). */
  on(name: 'error', fn: (error: Error) => void): () => void {
    return this.emitter.on(name, fn)
  }

  /** Events being handled now. */
  get active(): number {
    return this.running.size
  }

  /** Stops taking work; resolves once the handlers running have finished and their events are settled. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopper.abort()
      this.freed?.()
      await this.loop
      while (this.running.size > 0) await Promise.all(this.running)
      await this.source.close()
    })()
    return this.stopped
  }

  private report(error: unknown): void {
    this.emitter.emit('error', error instanceof Error ? error : new Error(String(error)))
  }

  private async room(): Promise<number> {
    while (this.running.size >= this.concurrency && !this.stopper.signal.aborted) await new Promise<void>((resolve) => (this.freed = resolve))
    return this.concurrency - this.running.size
  }

  private take(d: Delivery): void {
    // Pushed after stop(): left unhandled, it is released when the consumer goes.
    if (this.stopper.signal.aborted) return
    const id = d.event.id
    let extender: ReturnType<typeof setTimeout> | undefined
    let isHandled = false
    // While the handler runs, the lease is extended when half of it is left, from the deadline each extend answers.
    const extendBefore = (deadline: string) => {
      extender = setTimeout(async () => {
        const next = await this.settle('extend', id)
        if (next && !isHandled) extendBefore(next)
      }, Math.max(200, Date.parse(deadline) - Date.now()) / 2)
    }
    const handled = () => {
      isHandled = true
      clearTimeout(extender)
    }
    extendBefore(d.deadline)
    const task = (async () => {
      try {
        await this.handler(d.event, { group: this.group, consumer: this.consumer, attempt: d.attempt, deadline: d.deadline })
        handled()
        await this.settle('ack', id)
      } catch (error) {
        handled()
        this.report(error)
        const { minMs = 1000, maxMs = 60_000 } = this.retryDelay
        await this.settle('nack', id, Math.min(maxMs, minMs * 2 ** (d.attempt - 1)) / 1000)
      }
    })()
    this.running.add(task)
    void task.then(() => {
      this.running.delete(task)
      this.freed?.()
    })
  }

  /** Settles one event; resolves to an extend's new deadline, or undefined once a settle failed (reported: the event comes again). */
  private async settle(op: SettleOp, id: number, delaySec?: number): Promise<string | undefined> {
    try {
      const settled = await this.source.settle(op, id, delaySec)
      if (settled.notHeld.length > 0) throw new RingcastError(409, 'not_held', `${op} ${id}: the lease had passed or the connection dropped; the event will be delivered again.`)
      return settled.deadline
    } catch (error) {
      this.report(error)
    }
  }
}
