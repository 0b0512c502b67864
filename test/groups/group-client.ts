/** Small JSON client for the consumer-group routes. */
export class GroupClient {
  constructor(
    readonly base: string,
    readonly group: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }

  put(config: Record<string, unknown>) {
    return this.call('PUT', `/v1/groups/${this.group}`, config)
  }

  async info(): Promise<any> {
    const { status, body } = await this.call('GET', `/v1/groups/${this.group}`)
    if (status !== 200) throw new Error(`GET group answered ${status}`)
    return body
  }

  async claim(consumer: string, max = 1, wait = 0): Promise<{ event: any; attempt: number; deadline: string }[]> {
    const { status, body } = await this.call('POST', `/v1/groups/${this.group}/claim`, { consumer, max, wait })
    if (status !== 200) throw new Error(`claim answered ${status}: ${JSON.stringify(body)}`)
    return body.deliveries
  }

  /** Claims for `consumer` until `quiet` claims in a row come back empty, handing each non-empty batch to `handle`. */
  async claimUntilQuiet(consumer: string, max: number, wait: number, quiet: number, handle: (got: Awaited<ReturnType<GroupClient['claim']>>) => Promise<void>): Promise<void> {
    for (let empty = 0; empty < quiet; ) {
      const got = await this.claim(consumer, max, wait)
      if (got.length === 0) {
        empty++
        continue
      }
      empty = 0
      await handle(got)
    }
  }

  async settle(op: 'ack' | 'nack' | 'extend' | 'term', body: Record<string, unknown>): Promise<{ ok: number[]; notHeld: number[]; deadline?: string }> {
    const res = await this.call('POST', `/v1/groups/${this.group}/${op}`, body)
    if (res.status !== 200) throw new Error(`${op} answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body
  }

  ack(consumer: string, ids: number[]) {
    return this.settle('ack', { consumer, ids })
  }
}

/** Publishes `n` events (in batches) to `stream`; returns their ids. */
export async function publishMany(base: string, stream: string, n: number, data: (i: number) => unknown = (i) => ({ i })): Promise<number[]> {
  const ids: number[] = []
  for (let at = 0; at < n; at += 500) {
    const batch = Array.from({ length: Math.min(500, n - at) }, (_, k) => ({ type: 'job', data: data(at + k) }))
    const res = await fetch(`${base}/v1/streams/${stream}/events`, { method: 'POST', body: JSON.stringify(batch), headers: { 'Content-Type': 'application/json' } })
    if (res.status !== 201) throw new Error(`publish answered ${res.status}`)
    for (const e of (await res.json()) as { id: number }[]) ids.push(e.id)
  }
  return ids
}

/** Tracks who holds what: fails on a second holder, counts acks per id. */
export class Ledger {
  readonly holder = new Map<number, string>()
  readonly acked = new Map<number, number>()
  readonly violations: string[] = []

  claimed(consumer: string, id: number): void {
    const other = this.holder.get(id)
    if (other !== undefined && other !== consumer) this.violations.push(`${id} held by ${other} and ${consumer}`)
    this.holder.set(id, consumer)
  }

  settled(ids: number[]): void {
    for (const id of ids) {
      this.holder.delete(id)
      this.acked.set(id, (this.acked.get(id) ?? 0) + 1)
    }
  }
}
