import type { Target } from '../targets/target.ts'
import type { Subscriber } from './subscriber.ts'

/** HTTP long-poller: one request in flight, each answer's cursor feeds the next request. */
export class PollClient {
  private cursor: string | null = null
  private isClosing = false
  private abort = new AbortController()

  constructor(private target: Target, readonly sub: Subscriber, private onLive: () => void) {}

  open(): void {
    this.sub.startConnect()
    void this.loop()
  }

  drop(): void {}

  close(): void {
    this.isClosing = true
    this.abort.abort()
  }

  private async loop(): Promise<void> {
    const t = this.target, sub = this.sub
    // A long-poller is "connected" once its first request is out; the server parks it from there.
    sub.ready()
    this.onLive()
    while (!this.isClosing) {
      const req = t.poll!(sub.streams[0], this.cursor)
      try {
        const res = await fetch(req.url, { headers: req.headers, signal: this.abort.signal })
        const body = await res.text()
        if (res.status >= 400 && res.status !== 408 && res.status !== 304) {
          sub.errors++
          sub.sink.control(`poll-http-${res.status}`)
          await Bun.sleep(100)
          continue
        }
        const page = t.pollParse!(res, body, this.cursor)
        for (const e of page.events) sub.deliverStamp(e.stamp, e.id)
        this.cursor = page.cursor
      } catch {
        if (this.isClosing) return
        sub.errors++
        await Bun.sleep(100)
      }
    }
  }
}
