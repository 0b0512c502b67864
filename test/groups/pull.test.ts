import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { publish, type TestServer } from '../helpers/start-server'
import { GroupClient, Ledger, publishMany } from './group-client'
import { MODES, startModeServer } from './modes'

for (const mode of MODES) describe(mode, () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startModeServer(mode)
  })
  afterAll(() => server.close())

  const group = (name: string) => new GroupClient(server.url, name)

  describe('group admin', () => {
    test('PUT creates (201) then updates (200) keeping the cursor; GET lists; DELETE removes', async () => {
      const g = group('admin-1')
      const created = await g.put({ streams: ['adm.*'], start: 'earliest', ackTimeout: 5, maxDeliveries: 3, ordering: 'stream' })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({ group: 'admin-1', streams: ['adm.*'], ackTimeout: 5, maxDeliveries: 3, ordering: 'stream', dlq: 'dlq.admin-1', lag: 0, pending: 0 })
      await publishMany(server.url, 'adm.1', 3)
      expect((await g.info()).lag).toBe(3)
      const updated = await g.put({ ackTimeout: 10, start: 'latest' })
      expect(updated.status).toBe(200)
      expect(updated.body).toMatchObject({ ackTimeout: 10, maxDeliveries: 3, cursor: 0, lag: 3 })
      const list = await g.call('GET', '/v1/groups')
      expect(list.body.groups.map((x: any) => x.group)).toContain('admin-1')
      expect((await g.call('DELETE', '/v1/groups/admin-1')).status).toBe(204)
      expect((await g.call('GET', '/v1/groups/admin-1')).status).toBe(404)
      expect((await g.call('DELETE', '/v1/groups/admin-1')).status).toBe(404)
    })

    test('bad input is a problem+json 4xx; unknown group is 404 not_found', async () => {
      const g = group('bad')
      expect((await g.put({ start: 'earliest' })).status).toBe(400)
      expect((await g.put({ streams: ['a..b'] })).body.code).toBe('bad_pattern')
      expect((await g.put({ streams: ['x'], ordering: 'random' })).status).toBe(400)
      expect((await g.put({ streams: ['x'], start: 10 ** 9 })).status).toBe(400)
      expect((await group('bad name').put({ streams: ['x'] })).body.code).toBe('bad_name')
      const claim = await g.call('POST', '/v1/groups/nope/claim', { consumer: 'w' })
      expect(claim.status).toBe(404)
      expect(claim.body.code).toBe('not_found')
      expect((await g.call('POST', '/v1/groups/nope/ack', { ids: [1] })).status).toBe(404)
    })
  })

  describe('pull consumers', () => {
    test('4 concurrent consumers: every event acked exactly once, never held by two at once', async () => {
      const g = group('many')
      await g.put({ streams: ['many.*'], start: 'latest' })
      const ids = await publishMany(server.url, 'many.a', 200)
      const more = publishMany(server.url, 'many.b', 200)
      const ledger = new Ledger()
      const worker = (name: string) =>
        g.claimUntilQuiet(name, 7, 0.3, 2, async (got) => {
          for (const d of got) ledger.claimed(name, d.event.id)
          const { ok, notHeld } = await g.ack(name, got.map((d) => d.event.id))
          expect(notHeld).toEqual([])
          ledger.settled(ok)
        })
      await Promise.all(['w1', 'w2', 'w3', 'w4'].map(worker))
      const all = [...ids, ...(await more)]
      expect(ledger.violations).toEqual([])
      expect([...ledger.acked.keys()].sort((a, b) => a - b)).toEqual(all.sort((a, b) => a - b))
      expect([...ledger.acked.values()].every((n) => n === 1)).toBe(true)
      const info = await g.info()
      expect(info).toMatchObject({ lag: 0, pending: 0, inFlight: 0, acks: 400, redeliveries: 0 })
      expect(info.consumers.map((c: any) => c.consumer)).toEqual(['w1', 'w2', 'w3', 'w4'])
    })

    test('a long-polling claim returns the moment an event is published', async () => {
      const g = group('lp')
      await g.put({ streams: ['lp.1'] })
      const started = performance.now()
      const claim = g.claim('w', 5, 10)
      await Bun.sleep(100)
      await publish(server.url, 'lp.1', { data: 'x' })
      const got = await claim
      expect(got.length).toBe(1)
      expect(got[0].attempt).toBe(1)
      expect(performance.now() - started).toBeLessThan(3000)
    })

    test('a consumer that never acks has its event redelivered after the deadline, attempt + 1; its late ack is not taken', async () => {
      const g = group('redeliver')
      await g.put({ streams: ['rd.1'], ackTimeout: 1 })
      const [id] = await publishMany(server.url, 'rd.1', 1)
      const [first] = await g.claim('lazy', 1)
      expect(first.event.id).toBe(id)
      const deadline = Date.parse(first.deadline)
      expect(await g.claim('eager', 1, 0)).toEqual([])
      const [again] = await g.claim('eager', 1, 5)
      expect(Date.now()).toBeGreaterThanOrEqual(deadline)
      expect(again.event.id).toBe(id)
      expect(again.attempt).toBe(2)
      expect(await g.ack('lazy', [id])).toEqual({ ok: [], notHeld: [id] })
      expect(await g.ack('eager', [id])).toEqual({ ok: [id], notHeld: [] })
      expect((await g.info()).redeliveries).toBe(1)
    })

    test('nack with delay makes it available again only after the delay', async () => {
      const g = group('nack')
      await g.put({ streams: ['nk.1'] })
      const [id] = await publishMany(server.url, 'nk.1', 1)
      await g.claim('a', 1)
      const nackedAt = Date.now()
      expect(await g.settle('nack', { consumer: 'a', ids: [id], delay: 0.7 })).toEqual({ ok: [id], notHeld: [] })
      expect(await g.claim('b', 1)).toEqual([])
      const [again] = await g.claim('b', 1, 5)
      expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(650)
      expect(again).toMatchObject({ event: { id }, attempt: 2 })
      await g.settle('nack', { consumer: 'b', ids: [id] })
      expect((await g.claim('c', 1))[0]).toMatchObject({ event: { id }, attempt: 3 })
    })

    test('extend pushes the deadline: no redelivery before the new deadline', async () => {
      const g = group('extend')
      await g.put({ streams: ['ex.1'], ackTimeout: 1 })
      const [id] = await publishMany(server.url, 'ex.1', 1)
      const [d] = await g.claim('a', 1)
      await Bun.sleep(500) // time passing is the point here: extend half-way through the lease
      const ext = await g.settle('extend', { consumer: 'a', ids: [id, 999_999] })
      expect(ext.ok).toEqual([id])
      expect(ext.notHeld).toEqual([999_999])
      const newDeadline = Date.parse(ext.deadline!)
      expect(newDeadline).toBeGreaterThan(Date.parse(d.deadline) + 300)
      const [again] = await g.claim('b', 1, 5)
      expect(Date.now()).toBeGreaterThanOrEqual(newDeadline)
      expect(again).toMatchObject({ event: { id }, attempt: 2 })
    })

    test('term sends the event to dlq.{group} at once with the reason', async () => {
      const g = group('term')
      await g.put({ streams: ['tm.1'] })
      const [id] = await publishMany(server.url, 'tm.1', 1, () => ({ job: 'bad' }))
      await g.claim('a', 1)
      expect(await g.settle('term', { consumer: 'b', ids: [id] })).toEqual({ ok: [], notHeld: [id] })
      expect(await g.settle('term', { consumer: 'a', ids: [id], reason: 'cannot parse' })).toEqual({ ok: [id], notHeld: [] })
      const page = await g.call('GET', '/v1/streams/dlq.term/events?after=0')
      expect(page.body.events.length).toBe(1)
      expect(page.body.events[0]).toMatchObject({ type: 'dead_letter', data: { event: { id, stream: 'tm.1', data: { job: 'bad' } }, attempts: 1, reason: 'cannot parse' } })
      expect(await g.info()).toMatchObject({ deadLetters: 1, pending: 0 })
    })

    test('a poison event lands in the DLQ after maxDeliveries; replay puts it back, once', async () => {
      const g = group('poison')
      await g.put({ streams: ['ps.1'], maxDeliveries: 3 })
      const [id] = await publishMany(server.url, 'ps.1', 1, () => 'poison')
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [d] = await g.claim('w', 1, 5)
        expect(d).toMatchObject({ event: { id }, attempt })
        await g.settle('nack', { consumer: 'w', ids: [id] })
      }
      expect(await g.claim('w', 1)).toEqual([])
      const info = await g.info()
      expect(info).toMatchObject({ deadLetters: 1, pending: 0, redeliveries: 2 })
      const dlq = (await g.call('GET', '/v1/streams/dlq.poison/events?after=0')).body.events
      expect(dlq.length).toBe(1)
      expect(dlq[0].data).toMatchObject({ event: { id, data: 'poison' }, attempts: 3, reason: 'nacked' })

      const replay = await g.call('POST', '/v1/groups/poison/dlq/replay', {})
      expect(replay.status).toBe(200)
      expect(replay.body.replayed).toEqual([{ deadLetter: dlq[0].id, stream: 'ps.1', id: expect.any(Number), duplicate: false }])
      const [back] = await g.claim('w', 1, 5)
      expect(back).toMatchObject({ event: { id: replay.body.replayed[0].id, stream: 'ps.1', type: 'job', data: 'poison', key: `replay-${dlq[0].id}` }, attempt: 1 })
      await g.ack('w', [back.event.id])
      const again = await g.call('POST', '/v1/groups/poison/dlq/replay', { ids: [dlq[0].id, 123_456] })
      expect(again.body.replayed[0].duplicate).toBe(true)
      expect(again.body.notFound).toEqual([123_456])
      expect(await g.claim('w', 1)).toEqual([])
    })

    test('ordering "stream": one in-flight event per stream, in order, streams in parallel', async () => {
      const g = group('ordered')
      await g.put({ streams: ['ord.*'], ordering: 'stream' })
      for (let i = 0; i < 4; i++) for (const s of ['ord.a', 'ord.b', 'ord.c']) await publish(server.url, s, { data: i })
      const seen = new Map<string, number[]>()
      for (let round = 0; round < 4; round++) {
        const got = await g.claim('w', 10)
        const streams = got.map((d) => d.event.stream).sort()
        expect(streams).toEqual(['ord.a', 'ord.b', 'ord.c'])
        expect(await g.claim('w2', 10)).toEqual([])
        for (const d of got) seen.set(d.event.stream, [...(seen.get(d.event.stream) ?? []), d.event.data])
        await g.ack('w', got.map((d) => d.event.id))
      }
      for (const data of seen.values()) expect(data).toEqual([0, 1, 2, 3])
    })

    test('ordering "stream": a nacked event holds back the rest of its stream', async () => {
      const g = group('ordered-nack')
      await g.put({ streams: ['on.*'], ordering: 'stream' })
      const ids = await publishMany(server.url, 'on.1', 3)
      const [first] = await g.claim('w', 5)
      expect(first.event.id).toBe(ids[0])
      await g.settle('nack', { consumer: 'w', ids: [ids[0]] })
      const [again] = await g.claim('w', 5)
      expect(again).toMatchObject({ event: { id: ids[0] }, attempt: 2 })
    })

    test('acks for ids the consumer does not hold are reported, not taken', async () => {
      const g = group('notheld')
      await g.put({ streams: ['nh.1'] })
      const [id] = await publishMany(server.url, 'nh.1', 1)
      await g.claim('a', 1)
      expect(await g.ack('b', [id, 424242])).toEqual({ ok: [], notHeld: [id, 424242] })
      expect((await g.info()).inFlight).toBe(1)
      expect(await g.ack('a', [id])).toEqual({ ok: [id], notHeld: [] })
    })

    test('/metrics has per-group lag, pending, acks, redeliveries and dead letters', async () => {
      const g = group('metered')
      await g.put({ streams: ['mt.1'] })
      await publishMany(server.url, 'mt.1', 2)
      const text = await (await fetch(`${server.url}/metrics`)).text()
      expect(text).toContain('ringcast_group_lag{group="metered"} 2')
      expect(text).toContain('ringcast_group_pending{group="metered"} 0')
      expect(text).toContain('# TYPE ringcast_group_acks_total counter')
      expect(text).toContain('ringcast_group_redeliveries_total{group="metered"} 0')
      expect(text).toContain('ringcast_group_dead_letters_total{group="metered"} 0')
    })
  })

  describe('retention', () => {
    async function until(predicate: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
      const deadline = Date.now() + timeoutMs
      while (!(await predicate())) {
        if (Date.now() > deadline) throw new Error('condition not met in time')
        await Bun.sleep(50)
      }
    }

    test('an event delivered and not settled survives retention; events pruned before the group read them are a gap', async () => {
      const g = group('ret')
      await g.call('PUT', '/v1/streams/ret.1', { maxEvents: 3 })
      await publishMany(server.url, 'ret.1', 5)
      await g.put({ streams: ['ret.1'] })
      const [held] = await publishMany(server.url, 'ret.1', 1)
      await g.claim('w', 1)
      const later = await publishMany(server.url, 'ret.1', 10)
      // Retention removes what came before the held event, and nothing from it on.
      await until(async () => (await g.call('GET', '/v1/streams/ret.1')).body.firstId === held)
      await Bun.sleep(600) // two more retention passes: still there
      expect((await g.call('GET', '/v1/streams/ret.1')).body).toMatchObject({ firstId: held, events: 11 })
      expect(await g.ack('w', [held])).toEqual({ ok: [held], notHeld: [] })
      await until(async () => (await g.call('GET', '/v1/streams/ret.1')).body.events <= 3)
      const got = await g.claim('w', 20)
      expect(got.map((d) => d.event.id)).toEqual(later.slice(-3))
      const info = await g.info()
      expect(info.gaps).toBe(1)
      expect(info.lastGap).toMatchObject({ after: held, firstId: later[later.length - 3] })
    })
  })
})
