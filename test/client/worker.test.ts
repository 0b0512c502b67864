import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type DeliveryInfo, type Envelope, Ringcast, type WorkerOptions } from '../../src/client'
import { until } from '../helpers/hub-fixture'
import { eventually } from '../helpers/publisher'
import { Restartable, reader } from './support'

/** rc.worker against the compiled binary, pulling over HTTP and pushed over WebSocket. */

const server = new Restartable()
let rc: Ringcast

beforeAll(async () => {
  await server.start()
  rc = new Ringcast({ url: server.url, backoff: { minMs: 20, maxMs: 200 } })
})

afterAll(async () => {
  await rc?.close()
  await server.dispose()
})

describe.each(['pull', 'ws'] as NonNullable<WorkerOptions['transport']>[])('%s', (transport) => {
  test('failures are retried with a growing delay, a poison event ends in dlq.{group}, a long handler keeps its lease', async () => {
    const group = `work-${transport}`
    await rc.putGroup(group, { streams: [`work.${transport}.*`], start: 'earliest', ackTimeout: 0.4, maxDeliveries: 3 })
    // n % 3 === 1 fails on its first attempt; 4 always fails; 8 runs for more than twice the ack timeout.
    const stored = await rc.publish(`work.${transport}.1`, Array.from({ length: 9 }, (_, n) => ({ data: { n } })))
    const attempts = new Map<number, number[]>()
    const done: number[] = []
    let active = 0
    let mostActive = 0
    const handler = async (event: Envelope, delivery: DeliveryInfo) => {
      const { n } = event.data as { n: number }
      attempts.set(n, [...(attempts.get(n) ?? []), delivery.attempt])
      mostActive = Math.max(mostActive, ++active)
      try {
        await Bun.sleep(n === 8 ? 1000 : 20)
        if (n === 4 || (n % 3 === 1 && delivery.attempt === 1)) throw new Error(`fails: ${n}`)
        done.push(n)
      } finally {
        active--
      }
    }
    const worker = rc.worker(group, handler, { transport, concurrency: 3, retryDelay: { minMs: 20, maxMs: 100 } })
    const errors: string[] = []
    worker.on('error', (e) => errors.push(e.message))
    const dlq = reader(rc.subscribe({ streams: [`dlq.${group}`], after: 0 }))
    const [deadId] = await dlq.until(1)
    await until(() => done.length === 8, 10_000, 'every other event handled')
    await worker.stop()

    const dead = (dlq.seen[0] as { event: Envelope }).event
    expect(dead.id).toBe(deadId)
    expect(dead.type).toBe('dead_letter')
    expect(dead.data.event.id).toBe(stored[4].id)
    expect(attempts.get(4)).toEqual([1, 2, 3])
    for (const n of [1, 7]) expect(attempts.get(n)).toEqual([1, 2])
    for (const n of [0, 2, 3, 5, 6, 8]) expect(attempts.get(n)).toEqual([1])
    expect(done.sort()).toEqual([0, 1, 2, 3, 5, 6, 7, 8])
    expect(mostActive).toBe(3)
    expect(errors.filter((e) => !e.startsWith('fails:'))).toEqual([])
    const info = await rc.group(group)
    expect(info).toMatchObject({ pending: 0, deadLetters: 1, acks: 8 })
  }, 20_000)

  test('each extend answers the new deadline and the next is timed from it: a lease shortened mid-handler is kept', async () => {
    const group = `shrink-${transport}`
    const streams = [`shrink.${transport}.*`]
    await rc.putGroup(group, { streams, start: 'earliest', ackTimeout: 3 })
    await rc.publish(`shrink.${transport}.1`, { data: 'long' })
    const attempts: number[] = []
    let startedAt = 0
    const worker = rc.worker(group, async (_, { attempt }) => {
      attempts.push(attempt)
      startedAt ||= Date.now()
      await Bun.sleep(2900)
    }, { transport })
    const errors: string[] = []
    worker.on('error', (e) => errors.push(e.message))
    await until(() => attempts.length > 0, 10_000, 'the handler to start')
    // From now on an extend gives a lease of 1 s; the first extend comes at half of the first lease (3 s).
    await rc.putGroup(group, { streams, ackTimeout: 1 })
    const lastSeen = async () => Date.parse((await rc.group(group)).consumers.find((c) => c.consumer === worker.consumer)?.lastSeen ?? '')
    await eventually(async () => (await lastSeen()) > startedAt + 1000, 5000, 'the first extend')
    // Another claim arms the server's lease timer a second from now: a lease not extended again by then is released.
    await rc.publish(`shrink.${transport}.2`, { data: 'probe' })
    const claimed = await fetch(`${server.url}/v1/groups/${group}/claim`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ consumer: 'probe', max: 1, wait: 0 }) })
    expect(((await claimed.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(1)
    await worker.stop()
    expect(errors).toEqual([])
    expect(attempts).toEqual([1])
    expect((await rc.group(group)).acks).toBe(1)
  }, 15_000)

  test('stop() resolves once the running handler has finished, and its event is acked', async () => {
    const group = `stop-${transport}`
    await rc.putGroup(group, { streams: [`stop.${transport}`], start: 'earliest' })
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started = false
    const worker = rc.worker(group, async () => {
      started = true
      await gate
    }, { transport })
    await rc.publish(`stop.${transport}`, { data: 'slow' })
    await until(() => started, 10_000, 'the handler to start')
    let stopped = false
    const stopping = worker.stop().then(() => (stopped = true))
    await eventually(async () => (await rc.group(group)).inFlight === 1, 5000, 'the delivery in flight')
    expect(stopped).toBe(false)
    release()
    await stopping
    expect(await rc.group(group)).toMatchObject({ pending: 0, acks: 1, inFlight: 0 })
  })
})
