import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { eventually, publishEvents, publisherLoops, publishN, streamInfo } from '../helpers/publisher'
import { metric, RawSseClient, RawWsClient, serverSocketState } from '../helpers/raw-clients'
import { startTarget, type Target, type TargetKind, TARGETS } from '../helpers/targets'
import { type Envelope, type SubscribeOptions, type Subscriber, type TransportName, transports } from '../helpers/subscriber'

// The DESIGN.md guarantees, written once and run against every transport through its client factory,
// on the source in-process and on the compiled binary.

const ids = (events: readonly Envelope[]) => events.map((e) => e.id)

function expectStrictlyIncreasing(list: number[]): void {
  for (let i = 1; i < list.length; i++) if (list[i] <= list[i - 1]) throw new Error(`id ${list[i]} after ${list[i - 1]} at index ${i}`)
}

describe.each([...TARGETS, 'cluster'] as TargetKind[])('%s', (kind) => {
  let main: Target // small rings, so replay goes through SQLite
  let pruning: Target // retention keeps 5 events per stream
  let tight: Target // 64 KiB per-connection buffer
  beforeAll(async () => {
    ;[main, pruning, tight] = await Promise.all([
      startTarget(kind, { 'ring-size': '16' }),
      startTarget(kind, { 'retention-events': '5' }),
      startTarget(kind, { 'buffer-limit': '65536' }),
    ])
  })
  afterAll(async () => {
    await Promise.all([main?.close(), pruning?.close(), tight?.close()])
  })

  describe.each(['sse', 'ws', 'poll'] as TransportName[])('%s', (transport) => {
    const open: Subscriber[] = []
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()))
    })
    const subscribe = async (base: string, patterns: string[], options?: SubscribeOptions) => {
      const s = await transports[transport](base, patterns, options)
      open.push(s)
      return s
    }
    const name = (suffix: string) => `${transport}-${suffix}`
    /** The way a reconnecting client of this transport states its position. */
    const resumeFrom = (id: number): SubscribeOptions => (transport === 'sse' ? { lastEventId: id } : { after: id })

    test('order: ids strictly increase across several streams matched by a pattern, in replay and live', async () => {
      const base = main.url
      const pub = main.publishUrl
      const streams = [1, 2, 3].map((i) => name(`ord.${i}`))
      const before: number[] = []
      for (let round = 0; round < 3; round++) for (const s of streams) before.push(...ids(await publishN(pub, s, 4)))
      const replaying = await subscribe(base, [name('ord.*')], { after: 0 })
      const live = await subscribe(base, [name('ord.*')])
      // Concurrent publishers: the server interleaves them into one id sequence.
      const during = (await Promise.all(streams.flatMap((s) => [publishN(pub, s, 7), publishN(pub, s, 3)]))).flatMap(ids).sort((a, b) => a - b)
      const all = [...before, ...during].sort((a, b) => a - b)
      const replayed = ids(await replaying.collect(all.length))
      expectStrictlyIncreasing(replayed)
      expect(replayed).toEqual(all)
      const lived = ids(await live.collect(during.length))
      expectStrictlyIncreasing(lived)
      expect(lived).toEqual(during)
    })

    test('exact resume while publishers keep publishing: every id exactly once, no gap, no duplicate', async () => {
      const base = main.url
      const pub = main.publishUrl
      const pattern = name('res.*')
      const a = await subscribe(base, [pattern])
      const publishers = publisherLoops(pub, [name('res.1'), name('res.2')])
      await a.collect(40)
      await a.close()
      const firstPart = ids(a.events())
      expect(a.items.every((i) => i.kind === 'event')).toBe(true)
      await publishers.waitFor(30) // published while nobody listens
      const b = await subscribe(base, [pattern], resumeFrom(firstPart[firstPart.length - 1]))
      await publishers.waitFor(60) // published while B replays and goes live
      const acked = await publishers.stop()
      const last = acked[acked.length - 1]
      const secondPart: number[] = []
      while (secondPart.length === 0 || secondPart[secondPart.length - 1] < last) secondPart.push((await b.nextEvent()).id)
      expect(secondPart[0]).toBeGreaterThan(firstPart[firstPart.length - 1])
      const union = [...firstPart, ...secondPart]
      expectStrictlyIncreasing(union)
      expect(union).toEqual(acked)
    }, 30_000)

    test('replay from after=0 goes through every page of the log, then live, with no duplicate at the seam', async () => {
      const base = main.url
      const pub = main.publishUrl
      const stream = name('rep.1')
      const acked: number[] = []
      for (let batch = 0; batch < 6; batch++) acked.push(...ids(await publishN(pub, stream, 500)))
      const s = await subscribe(base, [stream], { after: 0 })
      // Published while the replay is under way: some land in the replay's pages, the rest arrive live.
      for (let batch = 0; batch < 8; batch++) acked.push(...ids(await publishN(pub, stream, 25, 'late')))
      const got = ids(await s.collect(acked.length, 20_000))
      expectStrictlyIncreasing(got)
      expect(got).toEqual(acked)
      const after = await publishN(pub, stream, 1, 'after')
      expect((await s.nextEvent()).id).toBe(after[0].id)
    }, 30_000)

    test('gap: a position older than retention gets {after, firstId} before the retained events', async () => {
      const base = pruning.url
      const pub = pruning.publishUrl
      const stream = name('gap.1')
      const published = ids(await publishN(pub, stream, 20))
      await eventually(async () => (await streamInfo(base, stream))?.events === 5, 10_000, 'retention down to 5 events')
      const s = await subscribe(base, [stream], { after: published[2] })
      expect(await s.next()).toEqual({ kind: 'gap', after: published[2], firstId: published[15] })
      expect(ids(await s.collect(5))).toEqual(published.slice(15))
      const live = await publishN(pub, stream, 1)
      expect((await s.nextEvent()).id).toBe(live[0].id)
    }, 20_000)

    test('reset: a position never issued gets {after, lastId}, then live events', async () => {
      const base = main.url
      const pub = main.publishUrl
      const stream = name('rst.1')
      const [last] = await publishN(pub, stream, 1)
      const far = last.id + 1000
      const s = await subscribe(base, [stream], { after: far })
      expect(await s.next()).toEqual({ kind: 'reset', after: far, lastId: last.id })
      const [live] = await publishN(pub, stream, 1)
      expect(await s.nextEvent()).toEqual(live)
    })

    test('terminal: the event is delivered, then end; later publishes get 409; a pattern subscription goes on', async () => {
      const base = main.url
      const pub = main.publishUrl
      const stream = name('term.1')
      await publishN(pub, stream, 1)
      const exact = await subscribe(base, [stream])
      const pattern = await subscribe(base, [name('term.*')])
      const [step] = await publishEvents(pub, stream, [{ type: 'step', data: 1 }])
      const [done] = await publishEvents(pub, stream, [{ type: 'done', data: 2, terminal: true }])
      expect(await exact.collect(2)).toEqual([step, done])
      expect(await exact.next()).toEqual({ kind: 'end' })
      if (transport !== 'ws') await exact.finished // SSE: the response ends; poll: the loop saw closed: true
      const refused = await fetch(`${pub}/v1/streams/${stream}/events`, { method: 'POST', body: '{"data":3}', headers: { 'Content-Type': 'application/json' } })
      expect(refused.status).toBe(409)
      await refused.text()

      expect(await pattern.collect(2)).toEqual([step, done])
      const [other] = await publishN(pub, name('term.2'), 1)
      expect(await pattern.next()).toEqual({ kind: 'event', event: other })

      // Reconnecting with nothing left to replay: SSE answers 204 (EventSource stops); the others end at once.
      const again = await subscribe(base, [stream], resumeFrom(done.id))
      if (transport === 'sse') {
        expect(again.status()).toBe(204)
        await again.finished
        expect(again.items).toEqual([])
      } else expect(await again.next()).toEqual({ kind: 'end' })
      // Reconnecting from before the terminal event: what is left, then end.
      const late = await subscribe(base, [stream], resumeFrom(step.id))
      expect(await late.nextEvent()).toEqual(done)
      expect(await late.next()).toEqual({ kind: 'end' })
    })

    test('one delivery per event when several patterns of one subscription match it', async () => {
      const base = main.url
      const pub = main.publishUrl
      const patterns = [name('dup.*'), name('dup.1')]
      const replayed = [...(await publishN(pub, name('dup.1'), 3)), ...(await publishN(pub, name('dup.2'), 2))]
      const s = await subscribe(base, patterns, { after: replayed[0].id - 1 })
      const live = [...(await publishN(pub, name('dup.1'), 3)), ...(await publishN(pub, name('dup.2'), 2))]
      const sentinel = await publishN(pub, name('dup.2'), 1, 'sentinel')
      // A duplicate anywhere would shift the sentinel out of this exact list.
      expect(ids(await s.collect(11))).toEqual(ids([...replayed, ...live, ...sentinel]))
    })

    test('types= applies to replay and live', async () => {
      const base = main.url
      const pub = main.publishUrl
      const stream = name('types.1')
      const typed = (types: string[]) => publishEvents(pub, stream, types.map((type, i) => ({ type, data: i })))
      const before = await typed(['a', 'b', 'c', 'a', 'b', 'c'])
      const s = await subscribe(base, [stream], { after: before[0].id - 1, types: ['a', 'c'] })
      const live = await typed(['b', 'a', 'c', 'b'])
      const sentinel = await typed(['c'])
      const expected = [...before, ...live, ...sentinel].filter((e) => e.type === 'a' || e.type === 'c')
      expect(ids(await s.collect(expected.length))).toEqual(ids(expected))
    })

    test('correlationId= applies to replay and live', async () => {
      const base = main.url
      const pub = main.publishUrl
      const stream = name('corr.1')
      const tagged = (ids: (string | undefined)[]) => publishEvents(pub, stream, ids.map((correlationId, i) => ({ data: i, ...(correlationId && { correlationId }) })))
      const before = await tagged(['x', 'y', undefined, 'x'])
      const s = await subscribe(base, [stream], { after: before[0].id - 1, correlationId: 'x' })
      const live = await tagged(['y', 'x', undefined])
      const sentinel = await tagged(['x'])
      const expected = [...before, ...live, ...sentinel].filter((e) => e.correlationId === 'x')
      const got = await s.collect(expected.length)
      expect(ids(got)).toEqual(ids(expected))
      expect(got.every((e) => e.correlationId === 'x')).toBe(true)
    })

    if (transport === 'poll') return // a poll holds nothing between requests: no slow-consumer case

    /** Publishes ~20 KB batches until `done()` holds (checked every 10 batches) or 32 MB went out; returns acked ids. */
    async function flood(pub: string, stream: string, done: () => Promise<boolean>): Promise<number[]> {
      const acked: number[] = []
      const data = 'x'.repeat(1000)
      for (let batch = 1; batch <= 1600; batch++) {
        acked.push(...ids(await publishEvents(pub, stream, Array.from({ length: 20 }, (_, i) => ({ type: 'bulk', data: { i, data } })))))
        if (batch % 10 === 0 && (await done())) return acked
      }
      throw new Error('32 MB published and the slow consumer was never acted on')
    }

    test('slow consumer: past --buffer-limit it is disconnected while others get every event', async () => {
      const base = tight.url
      const pub = tight.publishUrl
      const stream = name('slow.1')
      const normal = await subscribe(base, [stream])
      const counter = ['ringcast_slow_consumer_disconnects_total', `{transport="${transport}"}`] as const
      const before = await metric(base, ...counter)
      const raw = transport === 'sse' ? await RawSseClient.open(tight.port, `/v1/streams/${stream}/events`) : await RawWsClient.open(tight.port)
      if (raw instanceof RawWsClient) {
        raw.send({ op: 'subscribe', sub: 's', streams: [stream] })
        await raw.until(() => raw.messages().some((m) => m.op === 'ok'), 5000, 'subscribe ok')
      }
      const clientPort = raw.socket.localPort!
      raw.pause()
      try {
        const acked = await flood(pub, stream, async () => (await metric(base, ...counter)) > before)
        expect(await metric(base, ...counter)).toBe(before + 1)
        expect(ids(await normal.collect(acked.length, 20_000))).toEqual(acked)
        if (transport === 'sse') {
          // Ended for real while the client still reads nothing: no socket left waiting behind unread bytes.
          await eventually(async () => serverSocketState(tight.port, clientPort) === null, 5000, 'the server end of the slow socket to be gone')
        }
        raw.resume()
        if (raw instanceof RawWsClient) {
          await raw.until(() => raw.closeCode() !== undefined, 10_000, 'close frame')
          expect(raw.closeCode()).toBe(4008)
        } else {
          await raw.ended()
          const got = [...raw.body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
          expect(got.length).toBeLessThan(acked.length) // it was let go before the end; it resumes by id
          expect(got).toEqual(acked.slice(0, got.length))
        }
      } finally {
        raw.destroy()
      }
    }, 60_000)

    if (transport !== 'sse') return

    test('slow consumer with ?slow=drop: it skips ahead and reads a gap once it reads again', async () => {
      const base = tight.url
      const pub = tight.publishUrl
      const stream = name('drop.1')
      const normal = await subscribe(base, [stream])
      const gaps = ['ringcast_slow_consumer_gaps_total', '{transport="sse"}'] as const
      const closes = ['ringcast_slow_consumer_disconnects_total', '{transport="sse"}'] as const
      const [gapsBefore, closesBefore] = [await metric(base, ...gaps), await metric(base, ...closes)]
      const raw = await RawSseClient.open(tight.port, `/v1/streams/${stream}/events?slow=drop`)
      raw.pause()
      try {
        const acked = await flood(pub, stream, async () => (await metric(base, ...gaps)) > gapsBefore)
        raw.resume()
        // The gap goes out with the next event after the connection drains.
        const deadline = Date.now() + 10_000
        while (!raw.body.includes('event: gap')) {
          if (Date.now() > deadline) throw new Error('no gap frame after the client read again')
          acked.push(...ids(await publishN(pub, stream, 1, 'poke')))
          await raw.until(() => raw.body.includes('event: gap'), 200, 'gap').catch(() => {})
        }
        await raw.until(() => /event: gap\ndata: [^\n]*\n\nid: \d+\n/.test(raw.body), 5000, 'event after the gap')
        const [, beforeGap, gapJson, afterGap] = raw.body.match(/([\s\S]*)event: gap\ndata: ([^\n]*)\n\nid: (\d+)\n/)!
        const gap = JSON.parse(gapJson)
        const read = [...beforeGap.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
        // Truthful: it names the last id this client got and the next one it gets; nothing silently skipped.
        expect(gap.after).toBe(read[read.length - 1])
        expect(read).toEqual(acked.slice(0, read.length))
        expect(gap.firstId).toBe(Number(afterGap))
        expect(gap.firstId).toBeGreaterThan(gap.after + 1)
        expect(acked).toContain(gap.firstId)
        expect(raw.isClosed).toBe(false)
        expect(await metric(base, ...closes)).toBe(closesBefore)
        expect(ids(await normal.collect(acked.length, 20_000))).toEqual(acked)
      } finally {
        raw.destroy()
      }
    }, 60_000)
  })
})
