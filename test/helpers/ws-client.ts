import { Wakeup } from './wakeup'

/** A real WebSocket client (Bun's) with awaitable messages: `next(predicate)` waits for a matching JSON frame. */
export class WsTestClient {
  readonly messages: any[] = []
  closeCode: number | undefined
  closeReason: string | undefined
  private read = 0
  private readonly wakeup = new Wakeup()
  readonly closed: Promise<void>

  private constructor(readonly socket: WebSocket) {
    socket.addEventListener('message', (e) => {
      this.messages.push(JSON.parse(String(e.data)))
      this.wakeup.wake()
    })
    this.closed = new Promise((resolve) =>
      socket.addEventListener('close', (e) => {
        this.closeCode = e.code
        this.closeReason = e.reason
        this.wakeup.wake()
        resolve()
      }),
    )
  }

  /** `tls.ca` lets a wss:// client trust a test's self-signed certificate. */
  static async open(url: string, options?: { tls: { ca: string } }): Promise<WsTestClient> {
    const socket = new WebSocket(url, options as never)
    const client = new WsTestClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true })
      socket.addEventListener('error', () => reject(new Error(`cannot open ${url}`)), { once: true })
    })
    return client
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** The next message (in arrival order) matching `predicate`; messages skipped over stay consumed. */
  async next(predicate: (m: any) => boolean = () => true, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      while (this.read < this.messages.length) {
        const m = this.messages[this.read++]
        if (predicate(m)) return m
      }
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode} ${this.closeReason})`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching WebSocket message within ${timeoutMs} ms`)
      await this.wakeup.until(left)
    }
  }

  /** The next `n` event envelopes. */
  async events(n: number, timeoutMs = 10_000): Promise<any[]> {
    const out: any[] = []
    while (out.length < n) out.push((await this.next((m) => m.op === 'event', timeoutMs)).event)
    return out
  }

  close(): void {
    this.socket.close()
  }

}
