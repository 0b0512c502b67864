import type { Target } from '../targets/target.ts'
import { HttpConnection } from './http-conn.ts'
import type { Subscriber } from './subscriber.ts'

/** HTTP long-poller on one keep-alive connection: one request in flight, each answer's cursor feeds the next. */
export class PollClient {
  private cursor: string | null = null
  private isClosing = false
  private conn: HttpConnection | null = null

  constructor(private target: Target, readonly sub: Subscriber, private onLive: () => void) {}

  open(): void {
    this.sub.startConnect()
    void this.loop()
  }

  drop(): void {}

  close(): void {
    this.isClosing = true
    this.conn?.close()
  }

  private async loop(): Promise<void> {
    const t = this.target, sub = this.sub
    // A long-poller is "connected" once its first request is out; the server parks it from there.
    sub.ready()
    this.onLive()
    while (!this.isClosing) {
      const req = t.poll!(sub.streams[0], this.cursor)
      const url = new URL(req.url)
      this.conn ??= new HttpConnection(url.hostname, Number(url.port || 80))
      try {
        const res = await this.conn.get(url.pathname + url.search, req.headers)
        sub.requests++
        if (res.status >= 400 && res.status !== 408 && res.status !== 304) {
          sub.errors++
          sub.sink.control(`poll-http-${res.status}`)
          await Bun.sleep(100)
          continue
        }
        const page = t.pollParse!(res, this.cursor)
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
