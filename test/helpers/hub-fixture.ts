import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Batch, Subscriber } from '../../src/core/feed'
import { Hub, type HubOptions, type PublishItem } from '../../src/core/hub'
import { SqliteLog } from '../../src/store/sqlite-log'

export const DEFAULTS = { ringSize: 16, maxEvents: 10_000, maxAgeSeconds: 604_800, ephemeral: false }

/** A real SqliteLog on a file in a fresh temp dir, plus a Hub over it; `reopen()` is a restart. */
export class HubFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'ringcast-hub-'))
  readonly file = join(this.dir, 'ringcast.db')
  log!: SqliteLog
  hub!: Hub
  commits: number[] = []

  constructor(private readonly options: Partial<HubOptions> = {}) {
    this.open()
  }

  open(options: Partial<HubOptions> = {}): Hub {
    this.log = new SqliteLog({ path: this.file, durability: 'normal' })
    this.hub = new Hub(this.log, { defaults: DEFAULTS, dedupWindowSeconds: 86_400, ...this.options, ...options }, { committed: (s) => this.commits.push(s.events) })
    return this.hub
  }

  /** Closes the log and opens a new Log and Hub on the same file, as a restart would. */
  reopen(options: Partial<HubOptions> = {}): Hub {
    this.log.close()
    return this.open(options)
  }

  close(): void {
    try {
      this.log.close()
    } finally {
      rmSync(this.dir, { recursive: true, force: true })
    }
  }
}

export const item = (data: unknown, extra: Partial<PublishItem> = {}): PublishItem => ({ type: 'message', data, ...extra })

/** Publishes `n` events one by one (each awaited), returning their ids. */
export async function publishMany(hub: Hub, stream: string, n: number, type = 'message'): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < n; i++) {
    const [r] = await hub.publish(stream, [{ type, data: i }])
    ids.push(r.event!.id)
  }
  return ids
}

/** A subscriber that records what the hub hands it. */
export class RecordingSubscriber implements Subscriber {
  readonly batches: Batch[] = []
  ended = 0
  readonly connections = 1

  deliver(batch: Batch): void {
    this.batches.push(batch)
  }

  end(): void {
    this.ended++
  }

  get ids(): number[] {
    return this.batches.flatMap((b) => b.events.map((e) => e.id))
  }
}

/** Resolves once `condition()` holds, checking every few ms; throws past the deadline. */
export async function until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Waits until the wall clock has moved past `ms`, so the next publish gets a later time. */
export async function clockPast(ms: number): Promise<void> {
  await until(() => Date.now() > ms, 1000, 'clock to advance')
}
