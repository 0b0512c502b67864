import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Envelope, Gap, Reset, Subscription } from '../../src/client'
import { type BinaryServer, startBinary, tempDir } from '../helpers/binary'

/** What a subscription's user saw, in order: events, and gaps and resets where they were reported. */
export type Seen = { event: Envelope } | { gap: Gap } | { reset: Reset }

/** Reads a subscription as a user would (for await), recording events and the gaps and resets between them. */
export function reader(sub: Subscription) {
  const seen: Seen[] = []
  sub.on('gap', (gap) => seen.push({ gap }))
  sub.on('reset', (reset) => seen.push({ reset }))
  const iterator = sub[Symbol.asyncIterator]()
  return {
    seen,
    /** The ids of the events seen so far. */
    get ids(): number[] {
      return seen.flatMap((s) => ('event' in s ? [s.event.id] : []))
    },
    /** Reads until `n` events in all have been seen; throws past the deadline or if iteration ends first. */
    async until(n: number, timeoutMs = 10_000): Promise<number[]> {
      const deadline = Date.now() + timeoutMs
      while (this.ids.length < n) {
        let timer: ReturnType<typeof setTimeout> | undefined
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.ids.length} of ${n} events within ${timeoutMs} ms (state ${sub.state})`)), Math.max(0, deadline - Date.now()))
        })
        const next = await Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer))
        if (next.done) throw new Error(`iteration ended after ${this.ids.length} of ${n} events`)
        seen.push({ event: next.value })
      }
      return this.ids
    },
    /** Resolves true when iteration ends with no further event (false if one more came). */
    async ended(timeoutMs = 10_000): Promise<boolean> {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`iteration did not end within ${timeoutMs} ms`)), timeoutMs))
      return (await Promise.race([iterator.next(), timeout])).done === true
    },
  }
}

/** The binary on a data file of its own, which a test can kill and start again on the same file and port. */
export class Restartable {
  server!: BinaryServer
  private readonly dir = tempDir('ringcast-client-')

  constructor(private readonly args: string[] = []) {}

  get url(): string {
    return this.server.url
  }

  async start(): Promise<this> {
    this.server = await startBinary({ dataFile: join(this.dir, 'ringcast.db'), port: this.server?.port ?? 0, args: this.args })
    return this
  }

  /** kill -9, then the same file and port again. */
  async restart(): Promise<void> {
    await this.crash()
    await this.start()
  }

  async crash(): Promise<void> {
    this.server.kill('SIGKILL')
    await this.server.exited
  }

  async dispose(): Promise<void> {
    await this.server?.dispose()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Strictly increasing: each id once, in order. */
export function ascending(ids: number[]): boolean {
  return ids.every((id, i) => i === 0 || id > ids[i - 1])
}
