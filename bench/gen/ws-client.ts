import type { Target } from '../targets/target.ts'
import type { Subscriber } from './subscriber.ts'

/** WebSocket subscriber on Bun's client; resumes with the target's `after` when it can, else from the start. */
export class WsClient {
  private ws: WebSocket | null = null
  private isClosing = false

  constructor(private target: Target, readonly sub: Subscriber, private onLive: () => void) {}

  open(): void {
    this.sub.startConnect()
    this.connect()
  }

  drop(): void {
    this.sub.isLive = false
    this.ws?.close(4000, 'bench storm')
  }

  close(): void {
    this.isClosing = true
    this.ws?.close()
  }

  private connect(): void {
    const t = this.target, sub = this.sub
    // Without server-side resume (Nchan WS) a reconnect replays the whole buffer; the seq check drops nothing
    // but counts the repeats as duplicates, which is what a user of that transport would see.
    const lastId = t.caps.wsResume ? sub.lastId : null
    const ws = new WebSocket(t.wsUrl!(sub.streams, lastId))
    this.ws = ws
    ws.onopen = () => {
      const hello = t.wsHello!(sub.streams, lastId)
      if (hello) ws.send(hello)
      else { sub.ready(); this.onLive() }
    }
    ws.onmessage = (m) => {
      const frame = t.wsFrame!(typeof m.data === 'string' ? m.data : String(m.data))
      if (frame.kind === 'event') sub.deliver(frame.text, frame.id)
      else if (frame.kind === 'ready') { sub.ready(); this.onLive() }
      else if (frame.kind === 'other') sub.sink.control(frame.what)
    }
    ws.onerror = () => { sub.errors++ }
    ws.onclose = () => {
      this.ws = null
      if (this.isClosing) return
      sub.isLive = false
      sub.reconnects++
      setTimeout(() => this.connect(), 50 + Math.random() * 100)
    }
  }
}
