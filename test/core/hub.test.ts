import { afterEach, describe, expect, test } from 'bun:test'
import { RingcastError } from '../../src/core/errors'
import { Filter, Selector } from '../../src/core/filter'
import type { PublishResult } from '../../src/core/hub'
import { clockPast, HubFixture, item, publishMany, RecordingSubscriber } from '../helpers/hub-fixture'

let fx: HubFixture
afterEach(() => fx?.close())

const idOf = (r: PublishResult) => (r.duplicate ? r.id : r.event.id)
const ids = (events: readonly { id: number }[]) => events.map((e) => e.id)
async function rejection(p: Promise<unknown>): Promise<RingcastError> {
  try {
    await p
  } catch (error) {
    return error as RingcastError
  }
  throw new Error('expected a rejection')
}

describe('group commit', () => {
  test('publishes of one turn share one commit, get consecutive ids and resolve only once stored', async () => {
    fx = new HubFixture()
    const { hub, log } = fx
    const before = log.lastId()
    const promises = [hub.publish('a.1', [item(1)]), hub.publish('b.1', [item(2), item(3)]), hub.publish('a.1', [item(4)])]
    // Nothing is committed within the turn that published.
    expect(log.lastId()).toBe(before)
    expect(hub.lastId).toBe(before)
    const settled = await Promise.all(promises)
    expect(fx.commits).toEqual([4])
    const got = settled.flat().map(idOf)
    expect(got).toEqual([before + 1, before + 2, before + 3, before + 4])
    // Resolved means committed: every row is readable from the file.
    for (const id of got) expect(log.get(id)?.id).toBe(id)
    expect(log.lastId()).toBe(before + 4)
  })

  test('publishes of different turns get separate commits', async () => {
    fx = new HubFixture()
    await fx.hub.publish('a', [item(1)])
    await fx.hub.publish('a', [item(2)])
    expect(fx.commits).toEqual([1, 1])
  })

  test('a subscriber gets nothing before the commit, then one batch in id order', async () => {
    fx = new HubFixture()
    const sub = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['s.*'])]), sub)
    const p = Promise.all([fx.hub.publish('s.2', [item(1)]), fx.hub.publish('s.1', [item(2)])])
    expect(sub.ids).toEqual([])
    const results = (await p).flat().map(idOf)
    expect(sub.batches.length).toBe(1)
    expect(sub.ids).toEqual(results)
    expect([...results].sort((a, b) => a - b)).toEqual(results)
  })
})

describe('a failed commit', () => {
  test('rejects every publish of the batch with unavailable and issues no id', async () => {
    fx = new HubFixture()
    const sub = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['fail.*'])]), sub)
    await fx.hub.publish('fail.1', [item('ok')])
    const lastId = fx.hub.lastId
    fx.log.close() // every write now throws
    const errors = await Promise.all([rejection(fx.hub.publish('fail.1', [item(1)])), rejection(fx.hub.publish('fail.2', [item(2)]))])
    expect(errors.map((e) => e.code)).toEqual(['unavailable', 'unavailable'])
    expect(fx.hub.lastId).toBe(lastId)
    expect(sub.ids.length).toBe(1)
  })
})

describe('the publish pipeline cannot die', () => {
  test("one publish whose data cannot be stored fails alone; the batch's other publishes commit", async () => {
    fx = new HubFixture()
    const results = await Promise.allSettled([fx.hub.publish('p.1', [item(1)]), fx.hub.publish('p.1', [item(10n)]), fx.hub.publish('p.2', [item(2)])])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(((results[1] as PromiseRejectedResult).reason as RingcastError).code).toBe('invalid_body')
    expect(fx.commits).toEqual([2])
    expect((await fx.hub.publish('p.1', [item(3)]))[0].duplicate).toBe(false)
  })

  test('a failure while planning rejects the batch with a 500 and the next batch goes through', async () => {
    fx = new HubFixture()
    const failures: string[] = []
    fx.hub.hooks.failed = (message) => failures.push(message)
    const findKey = fx.log.findKey
    fx.log.findKey = () => {
      throw new Error('disk gone')
    }
    const errors = await Promise.all([rejection(fx.hub.publish('q.1', [item(1, { key: 'k' })])), rejection(fx.hub.publish('q.2', [item(2)]))])
    expect(errors.map((e) => e.code)).toEqual(['internal', 'internal'])
    expect(failures).toEqual(['publish batch failed before commit'])
    fx.log.findKey = findKey
    const [ok] = await fx.hub.publish('q.1', [item(3, { key: 'k' })])
    expect(ok.duplicate).toBe(false)
  })

  test('a subscriber that throws is reported; the others get the batch and the publish succeeds', async () => {
    fx = new HubFixture()
    const failures: string[] = []
    fx.hub.hooks.failed = (message) => failures.push(message)
    const broken = new RecordingSubscriber()
    broken.deliver = () => {
      throw new Error('bug in a transport')
    }
    const healthy = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['r.*'])]), broken)
    fx.hub.subscribe(new Selector([new Filter(['r.1'])]), healthy)
    const [r] = await fx.hub.publish('r.1', [item(1)])
    expect(healthy.ids).toEqual([idOf(r)])
    expect(failures).toEqual(['a subscriber failed to take a batch'])
  })
})

describe('ids', () => {
  test('strictly increasing across streams and turns', async () => {
    fx = new HubFixture()
    const seen: number[] = []
    for (const stream of ['x.1', 'y.1', 'x.1', 'z.9.q', 'y.1']) {
      const r = await fx.hub.publish(stream, [item(stream), item(stream)])
      seen.push(...r.map(idOf))
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1])
    expect(seen[0]).toBeGreaterThan(0)
  })

  test('continue above the last id after a restart', async () => {
    fx = new HubFixture()
    const [last] = (await fx.hub.publish('a', [item(1), item(2), item(3)])).slice(-1).map(idOf)
    const hub = fx.reopen()
    expect(hub.lastId).toBe(last)
    const [next] = await hub.publish('b', [item(4)])
    expect(idOf(next)).toBe(last + 1)
  })
})

describe('dedup', () => {
  test('a key seen within the window returns the original id and duplicate: true, storing nothing', async () => {
    fx = new HubFixture()
    const [first] = await fx.hub.publish('jobs.1', [item('a', { key: 'k1' })])
    expect(first.duplicate).toBe(false)
    const lastBefore = fx.hub.lastId
    const [again] = await fx.hub.publish('jobs.1', [item('b', { key: 'k1' })])
    expect(again.duplicate).toBe(true)
    expect(idOf(again)).toBe(idOf(first))
    // The original event (with its original data) comes back.
    expect(again.event?.envelope().data).toBe('a')
    expect(fx.hub.lastId).toBe(lastBefore)
    expect(fx.log.since(['jobs.1'], 0, 10, null).length).toBe(1)
  })

  test('within one batch and one turn, the second use of a key is a duplicate of the first', async () => {
    fx = new HubFixture()
    const [batch, other] = await Promise.all([fx.hub.publish('s', [item(1, { key: 'k' }), item(2, { key: 'k' }), item(3)]), fx.hub.publish('s', [item(4, { key: 'k' })])])
    expect(batch.map((r) => r.duplicate)).toEqual([false, true, false])
    expect(idOf(batch[1])).toBe(idOf(batch[0]))
    expect(batch[1].event?.id).toBe(idOf(batch[0]))
    expect(other[0].duplicate).toBe(true)
    expect(idOf(other[0])).toBe(idOf(batch[0]))
    expect(fx.log.since(['s'], 0, 10, null).map((r) => r.data)).toEqual(['1', '3'])
  })

  test('the same key on another stream is a new event', async () => {
    fx = new HubFixture()
    const [a] = await fx.hub.publish('s.a', [item(1, { key: 'k' })])
    const [b] = await fx.hub.publish('s.b', [item(2, { key: 'k' })])
    expect(b.duplicate).toBe(false)
    expect(idOf(b)).not.toBe(idOf(a))
  })

  test('survives a restart', async () => {
    fx = new HubFixture()
    const [first] = await fx.hub.publish('jobs.1', [item('a', { key: 'k1' })])
    const hub = fx.reopen()
    const [again] = await hub.publish('jobs.1', [item('b', { key: 'k1' })])
    expect(again.duplicate).toBe(true)
    expect(idOf(again)).toBe(idOf(first))
    expect(again.event?.envelope()).toMatchObject({ id: idOf(first), data: 'a', key: 'k1' })
  })

  test('a key older than the window is a new event', async () => {
    fx = new HubFixture()
    const [first] = await fx.hub.publish('jobs.1', [item('a', { key: 'k1' })])
    await clockPast(first.event!.timeMs)
    const hub = fx.reopen({ dedupWindowSeconds: 0 })
    const [again] = await hub.publish('jobs.1', [item('b', { key: 'k1' })])
    expect(again.duplicate).toBe(false)
    expect(idOf(again)).toBeGreaterThan(idOf(first))
  })

  test('dedup keys of ephemeral streams work too', async () => {
    fx = new HubFixture()
    fx.hub.configure('eph', { ephemeral: true })
    const [first] = await fx.hub.publish('eph', [item('a', { key: 'k' })])
    const [again] = await fx.hub.publish('eph', [item('b', { key: 'k' })])
    expect(again.duplicate).toBe(true)
    expect(idOf(again)).toBe(idOf(first))
    expect(again.event?.envelope().data).toBe('a')
  })
})

describe('terminal and close', () => {
  test('a terminal event closes the stream; exact subscribers get it then end, pattern subscribers go on', async () => {
    fx = new HubFixture()
    const exact = new RecordingSubscriber()
    const pattern = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['job.1'])]), exact)
    fx.hub.subscribe(new Selector([new Filter(['job.*'])]), pattern)
    const [, last] = await fx.hub.publish('job.1', [item('working'), item('done', { terminal: true })])
    expect(exact.ids).toEqual(pattern.ids)
    expect(exact.ids.at(-1)).toBe(idOf(last))
    expect(exact.ended).toBe(1)
    expect(pattern.ended).toBe(0)
    expect(fx.hub.streams.get('job.1')?.record.closed).toBe(true)

    const error = await rejection(fx.hub.publish('job.1', [item('late')]))
    expect(error).toBeInstanceOf(RingcastError)
    expect(error.code).toBe('stream_closed')
    await fx.hub.publish('job.2', [item('other')])
    expect(pattern.ids.length).toBe(3)
  })

  test('a publish in the same turn after a terminal one is refused; the closed state survives a restart', async () => {
    fx = new HubFixture()
    const first = fx.hub.publish('job.1', [item('end', { terminal: true })])
    const second = fx.hub.publish('job.1', [item('late')])
    await first
    expect((await rejection(second)).code).toBe('stream_closed')
    expect(fx.log.since(['job.1'], 0, 10, null).length).toBe(1)
    const hub = fx.reopen()
    expect((await rejection(hub.publish('job.1', [item('after restart')]))).code).toBe('stream_closed')
    expect(hub.isClosed(new Filter(['job.1']))).toBe(true)
    expect(hub.isClosed(new Filter(['job.*']))).toBe(false)
  })

  test('close() ends exact subscribers after what was published before it, in order', async () => {
    fx = new HubFixture()
    const sub = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['c.1'])]), sub)
    const p = fx.hub.publish('c.1', [item(1)])
    const closing = fx.hub.close('c.1')
    await Promise.all([p, closing])
    expect(sub.ids.length).toBe(1)
    expect(sub.ended).toBe(1)
    expect((await rejection(fx.hub.publish('c.1', [item(2)]))).code).toBe('stream_closed')
    // Closing again is harmless.
    await fx.hub.close('c.1')
  })

  test('a subscriber naming two streams ends only when both are closed', async () => {
    fx = new HubFixture()
    const sub = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['d.1', 'd.2'])]), sub)
    await fx.hub.close('d.1')
    expect(sub.ended).toBe(0)
    await fx.hub.close('d.2')
    expect(sub.ended).toBe(1)
  })
})

describe('ephemeral streams', () => {
  test('are never written to SQLite, and ids never go back after a restart', async () => {
    fx = new HubFixture()
    fx.hub.configure('eph.1', { ephemeral: true })
    const results = await fx.hub.publish('eph.1', [item(1), item(2)])
    const last = idOf(results[1])
    for (const r of results) expect(fx.log.get(idOf(r))).toBeUndefined()
    expect(fx.log.since(['eph.1'], 0, 10, null)).toEqual([])
    expect(fx.log.stats().find((s) => s.name === 'eph.1')).toBeUndefined()
    // They are replayable from the ring while the process lives.
    expect(ids(fx.hub.reader.read(new Filter(['eph.1']), 0, 10).events)).toEqual([last - 1, last])

    const hub = fx.reopen()
    expect(hub.lastId).toBe(last)
    expect(hub.streams.get('eph.1')?.record.ephemeral).toBe(true)
    const [next] = await hub.publish('eph.1', [item(3)])
    expect(idOf(next)).toBe(last + 1)
    const [persistent] = await hub.publish('p.1', [item(4)])
    expect(idOf(persistent)).toBe(last + 2)
  })

  test('ring overflow is their retention: a read from before it reports a gap', async () => {
    fx = new HubFixture()
    fx.hub.configure('eph.2', { ephemeral: true, ringSize: 3 })
    const got = await publishMany(fx.hub, 'eph.2', 5)
    const read = fx.hub.reader.read(new Filter(['eph.2']), 0, 100)
    expect(ids(read.events)).toEqual(got.slice(2))
    expect(read.gap).toEqual({ after: 0, firstId: got[2] })
    const state = fx.hub.streams.get('eph.2')!
    expect(state.events).toBe(3)
    expect(state.firstId).toBe(got[2])
  })
})

describe('fan-out', () => {
  const cases: [string, () => Selector][] = [
    ['a selector naming the stream twice', () => new Selector([new Filter(['fo.1']), new Filter(['fo.1', 'fo.2'])])],
    ['a filter listing the stream twice', () => new Selector([new Filter(['fo.1', 'fo.1'])])],
    ['a name and a pattern that both match', () => new Selector([new Filter(['fo.1']), new Filter(['fo.*'])])],
    ['two overlapping patterns', () => new Selector([new Filter(['fo.*', 'fo.**'])])],
    ['patterns in separate filters', () => new Selector([new Filter(['**']), new Filter(['fo.*'])])],
  ]
  test.each(cases)('each event is delivered once through %s', async (_, selector) => {
    fx = new HubFixture()
    const sub = new RecordingSubscriber()
    fx.hub.subscribe(selector(), sub)
    const [a, b] = await Promise.all([fx.hub.publish('fo.1', [item(1), item(2)]), fx.hub.publish('fo.1', [item(3)])])
    const [c] = await fx.hub.publish('fo.1', [item(4)])
    expect(sub.ids).toEqual([...a, ...b, c].map(idOf))
  })

  test('subscribers sharing a selector share one feed and one encoded batch', async () => {
    fx = new HubFixture()
    const one = new RecordingSubscriber()
    const two = new RecordingSubscriber()
    const feedOne = fx.hub.subscribe(new Selector([new Filter(['sh.*'])]), one)
    const feedTwo = fx.hub.subscribe(new Selector([new Filter(['sh.*'])]), two)
    expect(feedTwo).toBe(feedOne)
    expect(fx.hub.subscriberCount('sh.1')).toBe(2)
    await fx.hub.publish('sh.1', [item(1), item(2)])
    expect(one.batches[0]).toBe(two.batches[0])
    expect(one.batches[0].sse).toBe(two.batches[0].sse)
    fx.hub.unsubscribe(feedOne, one)
    await fx.hub.publish('sh.1', [item(3)])
    expect(one.ids.length).toBe(2)
    expect(two.ids.length).toBe(3)
    fx.hub.unsubscribe(feedTwo, two)
    expect(fx.hub.subscriberCount('sh.1')).toBe(0)
  })

  test('types and correlationId filters apply to live delivery', async () => {
    fx = new HubFixture()
    const typed = new RecordingSubscriber()
    const correlated = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['lv.1'], ['keep'])]), typed)
    fx.hub.subscribe(new Selector([new Filter(['lv.*'], null, 'w')]), correlated)
    const r = (await fx.hub.publish('lv.1', [item(1, { type: 'keep' }), item(2, { type: 'drop', correlationId: 'w' }), item(3)])).map(idOf)
    expect(typed.ids).toEqual([r[0]])
    expect(correlated.ids).toEqual([r[1]])
  })

  test('deleting a stream ends exact subscribers and its history; ids keep increasing', async () => {
    fx = new HubFixture()
    const sub = new RecordingSubscriber()
    fx.hub.subscribe(new Selector([new Filter(['del.1'])]), sub)
    const [before] = (await publishMany(fx.hub, 'del.1', 2)).slice(-1)
    expect(fx.hub.delete('del.1')).toBe(true)
    expect(sub.ended).toBe(1)
    expect(fx.hub.streams.get('del.1')).toBeUndefined()
    expect(fx.log.since(['del.1'], 0, 10, null)).toEqual([])
    expect(fx.hub.delete('del.1')).toBe(false)
    const [after] = await fx.hub.publish('del.1', [item('again')])
    expect(idOf(after)).toBeGreaterThan(before)
  })
})
