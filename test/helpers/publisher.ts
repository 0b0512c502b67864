import type { Envelope } from './subscriber'

/** Publishes one event or a batch and returns the stored envelopes; throws unless 201. */
export async function publishEvents(base: string, stream: string, items: object[]): Promise<Envelope[]> {
  const res = await fetch(`${base}/v1/streams/${stream}/events`, { method: 'POST', body: JSON.stringify(items), headers: { 'Content-Type': 'application/json' } })
  if (res.status !== 201) throw new Error(`publish to ${stream} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as Envelope[]
}

/** `n` events `{type, data: {n: i}}` published as one batch. */
export function publishN(base: string, stream: string, n: number, type = 'tick', extra: object = {}): Promise<Envelope[]> {
  return publishEvents(
    base,
    stream,
    Array.from({ length: n }, (_, i) => ({ type, data: { n: i }, ...extra })),
  )
}

/**
 * Publishers that keep publishing small batches, one loop per stream, concurrently, until stopped.
 * `acked` holds every id the server acknowledged; `waitFor(n)` resolves once n more have been acknowledged.
 */
export function publisherLoops(base: string, streams: string[], batch = 5) {
  const acked: number[] = []
  let isStopped = false
  let waiters: { target: number; resolve: () => void }[] = []
  const loops = streams.map(async (stream) => {
    let i = 0
    while (!isStopped) {
      const events = await publishEvents(base, stream, Array.from({ length: batch }, () => ({ type: 'tick', data: { i: i++ } })))
      for (const e of events) acked.push(e.id)
      waiters = waiters.filter((w) => (acked.length >= w.target ? (w.resolve(), false) : true))
    }
  })
  return {
    acked,
    /** Resolves once `more` further events have been acknowledged. */
    waitFor(more: number): Promise<void> {
      const target = acked.length + more
      return new Promise((resolve) => waiters.push({ target, resolve }))
    },
    /** Stops the loops; resolves with every acknowledged id, ascending. */
    async stop(): Promise<number[]> {
      isStopped = true
      await Promise.all(loops)
      return [...acked].sort((a, b) => a - b)
    },
  }
}

/** Polls `check` until it returns true, or throws after `timeoutMs`. For server-side state with no event to await. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`)
    await Bun.sleep(25)
  }
}

export async function streamInfo(base: string, stream: string): Promise<any> {
  const res = await fetch(`${base}/v1/streams/${stream}`)
  return res.status === 200 ? ((await res.json()) as any) : undefined
}
