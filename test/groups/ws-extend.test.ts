import { afterAll, beforeAll, expect, test } from 'bun:test'
import { type BinaryServer, post, requireBinary, startBinary } from '../helpers/binary'
import { WsTestClient } from '../helpers/ws-client'

/** The WebSocket settle ops of the compiled binary: an extend is answered with the new lease deadline. */

let server: BinaryServer
beforeAll(async () => {
  requireBinary()
  server = await startBinary()
})
afterAll(async () => {
  await server?.dispose()
})

test('extend is answered under its ref with the ids taken and their new deadline; ids not held only with an error; ack stays unanswered', async () => {
  const put = await fetch(`${server.url}/v1/groups/ext`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ streams: ['ext.*'], start: 'earliest', ackTimeout: 30 }) })
  expect(put.status).toBeLessThan(300)
  const { body: stored } = await post(server.url, 'ext.1', { data: 'work' })
  const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws`)
  try {
    ws.send({ op: 'consume', sub: 'c1', group: 'ext', max: 1 })
    const delivery = await ws.next((m) => m.op === 'delivery')
    expect(delivery.event.id).toBe(stored.id)

    ws.send({ op: 'extend', ref: 'x1', group: 'ext', ids: [stored.id] })
    const sentAt = Date.now()
    const answer = await ws.next((m) => m.ref === 'x1')
    expect(answer).toEqual({ op: 'ok', ref: 'x1', group: 'ext', ids: [stored.id], deadline: expect.any(String) })
    // ackTimeout from the extend, not from the delivery.
    expect(Date.parse(answer.deadline)).toBeGreaterThanOrEqual(Date.parse(delivery.deadline))
    expect(Date.parse(answer.deadline) - sentAt).toBeGreaterThan(29_000)

    ws.send({ op: 'extend', ref: 'x2', group: 'ext', ids: [stored.id + 1000] })
    expect(await ws.next((m) => m.ref === 'x2')).toEqual({ op: 'error', ref: 'x2', group: 'ext', error: { code: 'not_held', message: expect.any(String), ids: [stored.id + 1000] } })

    // Frames are answered in order: the pong comes after anything the ack would have been answered with.
    ws.send({ op: 'ack', ref: 'a1', group: 'ext', ids: [stored.id] })
    ws.send({ op: 'ping', ref: 'p1' })
    expect(await ws.next((m) => m.ref === 'a1' || m.ref === 'p1')).toEqual({ op: 'pong', ref: 'p1' })
  } finally {
    ws.close()
  }
})
