import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Ringcast, type RingcastError, type RingcastOptions, type Transport } from '../../src/client'
import { freePort } from '../helpers/binary'
import { until } from '../helpers/hub-fixture'
import { eventually, publishN } from '../helpers/publisher'
import { hsToken, TEST_SECRET } from '../helpers/tokens'
import { ascending, Restartable, reader } from './support'

/** The client library against the compiled binary, once per transport: resume across restarts, gap, reset, end, token renewal. */

const main = new Restartable()
const pruning = new Restartable(['--retention-events', '5'])
const secured = new Restartable(['--jwt-secret', TEST_SECRET])
const clients: Ringcast[] = []

beforeAll(async () => {
  await Promise.all([main.start(), pruning.start(), secured.start()])
})

afterAll(async () => {
  await Promise.all(clients.map((rc) => rc.close()))
  await Promise.all([main.dispose(), pruning.dispose(), secured.dispose()])
})

function client(options: RingcastOptions): Ringcast {
  const rc = new Ringcast({ backoff: { minMs: 20, maxMs: 300 }, ...options })
  clients.push(rc)
  return rc
}

/** Publishes a batch of 3 with the client every 20 ms until stopped; `acked` holds every id it got back. */
function publishing(rc: Ringcast, stream: string) {
  const acked: number[] = []
  let isStopped = false
  const loop = (async () => {
    for (let i = 0; !isStopped; i++) {
      const stored = await rc.publish(stream, [{ data: { i, j: 0 } }, { data: { i, j: 1 } }, { data: { i, j: 2 } }])
      acked.push(...stored.map((e) => e.id))
      // Paced: the point is events published across reconnects, not volume.
      await Bun.sleep(20)
    }
  })()
  return {
    acked,
    async stop(): Promise<number[]> {
      isStopped = true
      await loop
      return acked
    },
  }
}

describe.each(['sse', 'ws'] as Transport[])('%s', (transport) => {
  test('a server restarted mid-stream: every event once, in order', async () => {
    const rc = client({ url: main.url, transport })
    const states: string[] = []
    const sub = rc.subscribe({ streams: [`restart.${transport}.*`], after: 0 })
    sub.on('state', (s) => states.push(s))
    const read = reader(sub)
    const publisher = publishing(rc, `restart.${transport}.1`)
    await read.until(15)
    await main.restart()
    const restartedAt = publisher.acked.length
    await until(() => publisher.acked.length >= restartedAt + 15, 10_000, '15 more events acknowledged after the restart')
    const acked = await publisher.stop()
    expect(await read.until(acked.length)).toEqual(acked)
    expect(ascending(read.ids)).toBe(true)
    expect(states).toContain('reconnecting')
    expect(sub.lastId).toBe(acked[acked.length - 1])
    sub.close()
  }, 20_000)

  test('gap: {after, firstId} is reported before the retained events', async () => {
    const rc = client({ url: pruning.url, transport })
    const stream = `gap.${transport}`
    const published = (await publishN(pruning.url, stream, 20)).map((e) => e.id)
    await eventually(async () => (await rc.stream(stream)).events === 5, 10_000, 'retention down to 5 events')
    const read = reader(rc.subscribe({ streams: [stream], after: published[2] }))
    await read.until(5)
    expect(read.seen[0]).toEqual({ gap: { after: published[2], firstId: published[15] } })
    expect(read.ids).toEqual(published.slice(15))
  })

  test('reset: {after, lastId} for a position never issued, then live events', async () => {
    const rc = client({ url: main.url, transport })
    const stream = `reset.${transport}`
    const [last] = await publishN(main.url, stream, 1)
    const sub = rc.subscribe({ streams: [stream], after: last.id + 1000 })
    const read = reader(sub)
    const first = read.until(1)
    await until(() => read.seen.length > 0, 10_000, 'the reset')
    const reset = (read.seen[0] as { reset: { after: number; lastId: number } }).reset
    expect(reset.after).toBe(last.id + 1000)
    expect(reset.lastId).toBeGreaterThanOrEqual(last.id)
    const [live] = await publishN(main.url, stream, 1)
    expect(await first).toEqual([live.id])
    expect(sub.lastId).toBe(live.id)
  })

  test('a subscription from now misses nothing published while it reconnects, and ends with its stream', async () => {
    const rc = client({ url: main.url, transport })
    const stream = `live.${transport}`
    const sub = rc.subscribe({ streams: [stream] })
    const read = reader(sub)
    await until(() => sub.state === 'open', 10_000, 'open')
    await main.crash()
    // Published while the subscription has no connection and has received nothing yet.
    const during = rc.publish(stream, { data: 'during' })
    await main.start()
    const { id } = await during
    const closing = await rc.publish(stream, { data: 'last', terminal: true })
    expect(await read.until(2)).toEqual([id, closing.id])
    expect(await read.ended()).toBe(true)
  }, 20_000)

  test('a connection gone silent (the server frozen) is given up and reopened', async () => {
    const rc = client({ url: main.url, transport, idleMs: 1500 })
    const stream = `frozen.${transport}`
    const sub = rc.subscribe({ streams: [stream], after: 0 })
    const read = reader(sub)
    await until(() => sub.state === 'open', 10_000, 'open')
    // The TCP connection stays up, but nothing comes: no heartbeat, no pong.
    main.server.kill('SIGSTOP')
    try {
      await until(() => sub.state === 'reconnecting', 5000, 'the silent connection given up')
    } finally {
      main.server.kill('SIGCONT')
    }
    const stored = await rc.publish(stream, { data: 'after' })
    expect(await read.until(1)).toEqual([stored.id])
  })

  test('an expiring token is asked for again and the subscription resumes with nothing lost', async () => {
    let minted = 0
    const token = () => {
      minted++
      return hsToken(TEST_SECRET, { subscribe: ['tok.**'], publish: ['tok.**'] }, { expiresInSec: 2 })
    }
    const rc = client({ url: secured.url, transport, token })
    const errors: string[] = []
    const sub = rc.subscribe({ streams: [`tok.${transport}`], after: 0 })
    sub.on('error', (e) => errors.push(e.message))
    const read = reader(sub)
    const publisher = publishing(rc, `tok.${transport}`)
    // Each token lives 1–2 s: the first one expires mid-stream.
    await until(() => minted >= 2, 10_000, 'a token renewal')
    const acked = await publisher.stop()
    expect(await read.until(acked.length)).toEqual(acked)
    expect(sub.state).not.toBe('closed')
    expect(errors.filter((e) => /401|unauthorized/i.test(e))).toEqual([])
  }, 20_000)
})

test('a refused subscription ends its iteration with the server\'s problem', async () => {
  const rc = client({ url: main.url })
  const sub = rc.subscribe({ streams: ['bad..name'] })
  const read = reader(sub)
  await expect(read.until(1)).rejects.toMatchObject({ status: 400, code: 'bad_pattern' })
})

test('ws: a subscription replaying a large backlog beside an overlapping live one on the same socket misses nothing', async () => {
  const rc = client({ url: main.url, transport: 'ws' })
  const live = rc.subscribe({ streams: ['ovl.1'] })
  const liveRead = reader(live)
  await until(() => live.state === 'open', 10_000, 'the live subscription')
  // Big events, so the server's replay of them cannot go out in one piece.
  const backlog: number[] = []
  for (let i = 0; i < 20; i++) backlog.push(...(await publishN(main.url, 'ovl.2', 200, 'big', { data: 'x'.repeat(4096) })).map((e) => e.id))
  const publisher = publishing(rc, 'ovl.1')
  await until(() => publisher.acked.length >= 6, 10_000, 'live events flowing')
  const sub = rc.subscribe({ streams: ['ovl.*'], after: 0 })
  const all = reader(sub)
  const reading = all.until(backlog.length + 6, 15_000)
  await until(() => sub.state === 'open', 10_000, 'the replaying subscription')
  // Not reading for a moment fills the socket, so a replay still going on would have to wait for it to drain.
  Bun.sleepSync(300)
  await reading
  const acked = await publisher.stop()
  expect(await all.until(backlog.length + acked.length)).toEqual([...backlog, ...acked].sort((a, b) => a - b))
  expect(await liveRead.until(acked.length)).toEqual(acked)
}, 30_000)

test('a server not reachable yet is reported while connecting, and the subscription keeps trying', async () => {
  const port = await freePort()
  const rc = client({ url: `http://127.0.0.1:${port}` })
  for (const after of [undefined, 0]) {
    const sub = rc.subscribe({ streams: ['far.away'], after })
    const [error, state] = await new Promise<[RingcastError, string]>((resolve) => sub.on('error', (e) => resolve([e as RingcastError, sub.state])))
    expect(error).toMatchObject({ status: 0, code: 'unreachable', isTransient: true })
    expect(state).toBe('connecting')
    sub.close()
  }
})
