import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Ringcast, type RingcastError, type Transport } from '../../src/client'
import { wsRefusal } from '../auth/support'
import { until } from '../helpers/hub-fixture'
import { hsToken, TEST_SECRET } from '../helpers/tokens'
import { Restartable, reader } from './support'

/** A token the compiled binary refuses on a WebSocket: told inside the socket, seen by the client as an auth error. */

const server = new Restartable(['--jwt-secret', TEST_SECRET])
const clients: Ringcast[] = []
const WORK = { publish: ['work.**'], subscribe: ['work.**'], admin: true }

beforeAll(async () => {
  await server.start()
})

afterAll(async () => {
  await Promise.all(clients.map((rc) => rc.close()))
  await server.dispose()
})

function client(token: string | (() => Promise<string>), transport: Transport = 'ws'): Ringcast {
  const rc = new Ringcast({ url: server.url, token, transport, backoff: { minMs: 50, maxMs: 1000 } })
  clients.push(rc)
  return rc
}

test('the binary opens the socket, sends one unauthorized error frame, and closes it with 4001 and the reason', async () => {
  const { frames, code, reason } = await wsRefusal(`${server.url.replace('http', 'ws')}/v1/ws?access_token=not-a-token`)
  expect(frames).toEqual([{ op: 'error', error: { code: 'unauthorized', message: expect.any(String), hint: expect.any(String) } }])
  expect(code).toBe(4001)
  expect(reason).toBe(frames[0].error.message)
})

test('a push worker with a refused token reports a 401, not a network failure, and tries again with a growing delay', async () => {
  const worker = client('not-a-token').worker('any-group', () => {}, { transport: 'ws' })
  const errors: { error: RingcastError; at: number }[] = []
  worker.on('error', (error) => errors.push({ error: error as RingcastError, at: performance.now() }))
  await until(() => errors.length >= 5, 10_000, 'five refusals')
  await worker.stop()
  for (const { error } of errors) expect(error).toMatchObject({ status: 401, code: 'unauthorized', isTransient: false })
  expect(errors[0].error.message).toContain('Invalid token')
  // At least half of 50, 100, 200 and 400 ms between them; retried at the first delay each time, they would come within 200 ms.
  expect(errors[4].at - errors[0].at).toBeGreaterThanOrEqual(375)
})

test('a renewable token refused at connect is asked for again at once, and the worker then works', async () => {
  let minted = 0
  const token = async () => (++minted === 1 ? 'not-a-token' : hsToken(TEST_SECRET, WORK, { expiresInSec: 600 }))
  const admin = client(await hsToken(TEST_SECRET, WORK, { expiresInSec: 600 }), 'sse')
  await admin.putGroup('renewed', { streams: ['work.renewed'], start: 'earliest' })
  const stored = await admin.publish('work.renewed', { data: 'job' })
  const handled: number[] = []
  // The worker's first request is its WebSocket: the first token is refused there.
  const worker = client(token).worker('renewed', (event) => void handled.push(event.id), { transport: 'ws' })
  const errors: RingcastError[] = []
  worker.on('error', (error) => errors.push(error as RingcastError))
  await until(() => handled.length === 1, 10_000, 'the event handled')
  await worker.stop()
  expect(handled).toEqual([stored.id])
  expect(minted).toBe(2)
  // The socket the first token was refused on is reported as dropped, not as a refusal.
  expect(errors.map((e) => e.status)).toEqual([0])
})

describe.each(['sse', 'ws'] as Transport[])('%s', (transport) => {
  test('a token that cannot be renewed ends the subscription with its 401 once it expires', async () => {
    const rc = client(await hsToken(TEST_SECRET, WORK, { expiresInSec: 2 }), transport)
    const read = reader(rc.subscribe({ streams: [`work.expiring.${transport}`] }))
    await expect(read.until(1, 10_000)).rejects.toMatchObject({ status: 401, code: 'unauthorized' })
  })
})
