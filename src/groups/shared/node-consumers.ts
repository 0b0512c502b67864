import type { Claimed, PushHandle } from '../consumer-groups'

/** A claim waiting on this node for something to be ready. */
export interface Waiter {
  readonly consumer: string
  readonly max: number
  /** A dispatch is claiming for it: its own timeout must wait for that answer, so nothing taken is stranded. */
  isTaking: boolean
  isLeaving: boolean
  done(deliveries: Claimed[]): void
}

/** A WebSocket consumer on this node: what it holds (id → attempt) is its used credit. */
export class Pusher implements PushHandle {
  readonly held = new Map<number, number>()
  isClosed = false

  constructor(
    readonly consumer: string,
    readonly max: number,
    readonly send: (d: Claimed) => void,
    readonly ended: () => void,
    private readonly onClose: (p: Pusher) => void,
  ) {}

  get hasCredit(): boolean {
    return this.held.size < this.max
  }

  close(): void {
    if (this.isClosed) return
    this.isClosed = true
    this.onClose(this)
  }
}
