import { afterAll, beforeAll, expect, test } from 'bun:test'
import { publish, startTestServer, type TestServer } from './helpers/start-server'
import { SseClient } from './helpers/sse-client'
import { WsTestClient } from './helpers/ws-client'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.close())

test('an event published over HTTP reaches SSE and WebSocket subscribers', async () => {
  const sse = SseClient.open(`${server.url}/v1/streams/smoke.1/events`)
  await sse.until((f) => f.comments.includes('ringcast'))
  const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws`)
  ws.send({ op: 'subscribe', sub: 's', streams: ['smoke.*'] })
  await ws.next((m) => m.op === 'ok' && m.sub === 's')
  const { status, body } = await publish(server.url, 'smoke.1', { type: 't', data: { n: 1 } })
  expect(status).toBe(201)
  const frame = await sse.next()
  expect(frame.id).toBe(String(body.id))
  expect(JSON.parse(frame.data!)).toEqual(body)
  const [event] = await ws.events(1)
  expect(event).toEqual(body)
  sse.close()
  ws.close()
})
