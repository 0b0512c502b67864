import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { TestServer } from '../helpers/start-server'
import { WsTestClient } from '../helpers/ws-client'
import { GroupClient, Ledger, publishMany } from './group-client'
import { MODES, startModeServer } from './modes'

for (const mode of MODES) describe(mode, () => {
  let server: TestServer
  const sockets: WsTestClient[] = []
  beforeAll(async () => {
    server = await startModeServer(mode)
  })
  afterAll(async () => {
    for (const s of sockets) s.close()
    await server.close()
  })

  async function socket(): Promise<WsTestClient> {
    const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws`)
    sockets.push(ws)
    return ws
  }

  test('consume on an unknown group is an error not_found for that sub', async () => {
    const ws = await socket()
    ws.send({ op: 'consume', sub: 'c1', group: 'no-such-group', max: 3 })
    const reply = await ws.next((m) => m.op === 'error' || m.op === 'ok')
    expect(reply).toMatchObject({ op: 'error', sub: 'c1', error: { code: 'not_found' } })
  })

  test('WebSocket and HTTP consumers together: each event acked once, never two holders, never more than max in flight', async () => {
    const g = new GroupClient(server.url, 'mixed')
    await g.put({ streams: ['mixed.*'] })
    const N = 300
    const MAX = 5
    const ledger = new Ledger()
    let done = 0
    let resolveAll!: () => void
    const all = new Promise<void>((resolve) => (resolveAll = resolve))
    const acked = (n: number) => {
      done += n
      if (done >= N) resolveAll()
    }
    const overCredit: string[] = []
    for (const name of ['ws1', 'ws2', 'ws3']) {
      const ws = await socket()
      let inFlight = 0
      ws.socket.addEventListener('message', (e) => {
        const m = JSON.parse(String(e.data))
        if (m.op !== 'delivery') return
        inFlight++
        if (inFlight > MAX) overCredit.push(`${name}: ${inFlight}`)
        ledger.claimed(name, m.event.id)
        // Work takes a moment; the ack frees one credit.
        setTimeout(() => {
          inFlight--
          ledger.settled([m.event.id])
          ws.send({ op: 'ack', group: 'mixed', ids: [m.event.id] })
          acked(1)
        }, Math.random() * 3)
      })
      ws.send({ op: 'consume', sub: 'c', group: 'mixed', consumer: name, max: MAX })
      expect(await ws.next((m) => m.op === 'ok' || m.op === 'error')).toEqual({ op: 'ok', sub: 'c' })
    }
    let stopPulling = false
    const puller = (async () => {
      while (!stopPulling) {
        const got = await g.claim('http1', 4, 0.2)
        for (const d of got) ledger.claimed('http1', d.event.id)
        if (got.length === 0) continue
        const { ok } = await g.ack('http1', got.map((d) => d.event.id))
        ledger.settled(ok)
        acked(ok.length)
      }
    })()
    const ids = [...(await publishMany(server.url, 'mixed.a', N / 2)), ...(await publishMany(server.url, 'mixed.b', N / 2))]
    await all
    stopPulling = true
    await puller
    expect(overCredit).toEqual([])
    expect(ledger.violations).toEqual([])
    expect([...ledger.acked.keys()].sort((a, b) => a - b)).toEqual(ids)
    expect([...ledger.acked.values()].every((n) => n === 1)).toBe(true)
    // WebSocket acks are answered only on failure: the group's own counters say they were all taken.
    const deadline = Date.now() + 5000
    let info = await g.info()
    while (info.acks < N && Date.now() < deadline) info = await g.info()
    expect(info).toMatchObject({ acks: N, pending: 0, inFlight: 0, redeliveries: 0 })
    for (const ws of sockets.splice(1)) ws.close()
  })

  test('a socket that closes releases its deliveries for redelivery at once, attempt counted', async () => {
    const g = new GroupClient(server.url, 'release')
    await g.put({ streams: ['rel.1'], ackTimeout: 30 })
    const ids = await publishMany(server.url, 'rel.1', 3)
    const ws = await socket()
    ws.send({ op: 'consume', sub: 'c', group: 'release', max: 3 })
    const got = [await ws.next((m) => m.op === 'delivery'), await ws.next((m) => m.op === 'delivery'), await ws.next((m) => m.op === 'delivery')]
    expect(got.map((m) => m.event.id)).toEqual(ids)
    expect(got[0]).toMatchObject({ op: 'delivery', sub: 'c', attempt: 1, deadline: expect.any(String) })
    expect((await g.info()).inFlight).toBe(3)
    const closedAt = Date.now()
    ws.close()
    const again = await g.claim('http', 10, 5)
    expect(Date.now() - closedAt).toBeLessThan(3000)
    expect(again.map((d) => [d.event.id, d.attempt])).toEqual(ids.map((id) => [id, 2]))
  })

  test('nack, extend and term over WebSocket; failures come back as errors naming the ids', async () => {
    const g = new GroupClient(server.url, 'wsops')
    await g.put({ streams: ['wo.1'], ackTimeout: 30 })
    const [a, b] = await publishMany(server.url, 'wo.1', 2)
    const ws = await socket()
    ws.send({ op: 'consume', sub: 'c', group: 'wsops', max: 1 })
    expect((await ws.next((m) => m.op === 'delivery')).event.id).toBe(a)
    ws.send({ op: 'nack', group: 'wsops', ids: [a] })
    expect(await ws.next((m) => m.op === 'delivery')).toMatchObject({ event: { id: a }, attempt: 2 })
    ws.send({ op: 'extend', ref: 'x1', group: 'wsops', ids: [a, 777_777] })
    expect(await ws.next((m) => m.op === 'error')).toMatchObject({ ref: 'x1', group: 'wsops', error: { code: 'not_held', ids: [777_777] } })
    ws.send({ op: 'term', group: 'wsops', ids: [a], reason: 'broken input' })
    expect(await ws.next((m) => m.op === 'delivery')).toMatchObject({ event: { id: b }, attempt: 1 })
    // The dead letter is published beside the next delivery, not before it (on Redis it may land just after): wait for it.
    const dlq = (await g.call('GET', '/v1/streams/dlq.wsops/events?after=0&wait=5')).body.events
    expect(dlq.map((e: any) => e.data)).toEqual([expect.objectContaining({ event: expect.objectContaining({ id: a }), attempts: 2, reason: 'broken input' })])
    ws.send({ op: 'ack', group: 'wsops', ids: [a] })
    expect(await ws.next((m) => m.op === 'error')).toMatchObject({ group: 'wsops', error: { code: 'not_held', ids: [a] } })
    ws.send({ op: 'ack', group: 'nope', ids: [b] })
    expect(await ws.next((m) => m.op === 'error')).toMatchObject({ group: 'nope', error: { code: 'not_found' } })
    ws.send({ op: 'ack', group: 'wsops', ids: [b] })
    ws.send({ op: 'ping', ref: 'p' })
    // Acks are answered only when they fail: the pong comes next, with no error before it.
    expect(await ws.next()).toMatchObject({ op: 'pong', ref: 'p' })
    expect((await g.info()).acks).toBe(1)
  })

  test('unsubscribe stops a consume subscription; deleting the group ends it', async () => {
    const g = new GroupClient(server.url, 'ending')
    await g.put({ streams: ['end.1'] })
    const ws = await socket()
    ws.send({ op: 'consume', sub: 'c1', group: 'ending', max: 2 })
    ws.send({ op: 'consume', sub: 'c2', group: 'ending', max: 2 })
    await ws.next((m) => m.op === 'ok' && m.sub === 'c2')
    ws.send({ op: 'unsubscribe', sub: 'c1' })
    expect(await ws.next((m) => m.sub === 'c1')).toEqual({ op: 'ok', sub: 'c1' })
    expect((await g.call('DELETE', '/v1/groups/ending')).status).toBe(204)
    expect(await ws.next((m) => m.sub === 'c2')).toEqual({ op: 'end', sub: 'c2' })
  })
})
