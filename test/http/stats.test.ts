import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type BinaryServer, post, startBinary } from '../helpers/binary'
import { RawSseClient } from '../helpers/raw-clients'
import { parseFrame, SseClient } from '../helpers/sse-client'
import { hsToken, TEST_SECRET } from '../helpers/tokens'

// GET /v1/stats of the compiled binary over raw HTTP: its framing, one sample a second, its
// figures, its end when the client goes away, and who may read it.

const KEYS = ['timeMs', 'uptimeSeconds', 'eventsPerSecond', 'deliveriesPerSecond', 'commitP95Ms', 'connections', 'slowDisconnectsPerSecond', 'rejectedPerSecond', 'streams', 'lastId', 'rssBytes']

/** The SSE frames of a raw body (complete ones only). */
function framesOf(body: string) {
  return body.split('\n\n').slice(0, -1).map(parseFrame)
}

let open: BinaryServer | undefined
let keyed: BinaryServer | undefined
let publicMetrics: BinaryServer | undefined
beforeAll(async () => {
  ;[open, keyed, publicMetrics] = await Promise.all([
    startBinary({ dataFile: ':memory:', args: ['--log-level', 'debug'] }),
    startBinary({ dataFile: ':memory:', args: ['--jwt-secret', TEST_SECRET] }),
    startBinary({ dataFile: ':memory:', args: ['--jwt-secret', TEST_SECRET, '--metrics-public'] }),
  ])
})
afterAll(async () => {
  await Promise.all([open?.dispose(), keyed?.dispose(), publicMetrics?.dispose()])
})

describe('framing and figures', () => {
  test('retry, one history event, then a stats event a second; the figures follow what was published', async () => {
    const client = await RawSseClient.open(open!.port, '/v1/stats')
    try {
      expect(client.status).toBe(200)
      await client.until(() => framesOf(client.body).length >= 2, 5000, 'history and a first sample')
      const [history, first] = framesOf(client.body)
      expect(client.body.startsWith('retry: 2000\n')).toBe(true)
      expect(history.event).toBe('history')
      expect(Array.isArray(JSON.parse(history.data!))).toBe(true)
      expect(first.event).toBe('stats')
      expect(Object.keys(JSON.parse(first.data!))).toEqual(KEYS)

      const published = await post(open!.url, 'stats.a', [{ data: 1 }, { data: 2 }, { data: 3 }])
      expect(published.status).toBe(201)
      const lastId = published.body[2].id
      const seen = (f: { data?: string }) => JSON.parse(f.data!).lastId >= lastId
      await client.until(() => framesOf(client.body).some((f) => f.event === 'stats' && seen(f)), 5000, 'a sample after the publish')
      const stats = framesOf(client.body).filter((f) => f.event === 'stats')
      const after = JSON.parse(stats.find(seen)!.data!)
      expect(after.eventsPerSecond).toBeGreaterThan(0)
      expect(after.commitP95Ms).toBeGreaterThan(0)
      expect(after.streams).toBeGreaterThanOrEqual(1)

      // One a second: consecutive samples are about a second apart, never a burst.
      const times = stats.map((f) => JSON.parse(f.data!).timeMs)
      expect(times.length).toBeGreaterThanOrEqual(2)
      for (let i = 1; i < times.length; i++) {
        expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(900)
        expect(times[i] - times[i - 1]).toBeLessThan(2000)
      }
    } finally {
      client.destroy()
    }
    // The server lets the stream go at once when the client disconnects.
    await open!.waitFor(/stats stream ended watchers=0/, 'stderr', 5000)
  }, 15_000)

  test('a client that connects later gets the samples so far as its history', async () => {
    const client = await RawSseClient.open(open!.port, '/v1/stats')
    try {
      await client.until(() => framesOf(client.body).length >= 1, 5000, 'history')
      const history = JSON.parse(framesOf(client.body)[0].data!)
      expect(history.length).toBeGreaterThanOrEqual(2)
      expect(Object.keys(history[0])).toEqual(KEYS)
      const times = history.map((s: { timeMs: number }) => s.timeMs)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    } finally {
      client.destroy()
    }
  })

  test('without Accept: text/event-stream, the newest sample as JSON', async () => {
    const res = await fetch(`${open!.url}/v1/stats`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(Object.keys((await res.json()) as object)).toEqual(KEYS)
  })
})

describe('who may read it', () => {
  const statusOf = async (url: string, headers: Record<string, string> = {}, query = '') => {
    const client = SseClient.open(`${url}/v1/stats${query}`, headers)
    const res = await client.opened()
    client.close()
    return { status: res.status, type: res.headers.get('content-type') ?? '' }
  }

  test('with a key: admin only (401 without a token, 403 for a tenant or a ticket)', async () => {
    const url = keyed!.url
    const admin = await hsToken(TEST_SECRET, { subscribe: ['**'], admin: true }, { sub: 'ops' })
    const tenant = await hsToken(TEST_SECRET, { subscribe: ['**'] }, { sub: 't' })
    const minted = await fetch(`${url}/v1/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ subscribe: ['**'] }) })
    const { ticket } = (await minted.json()) as { ticket: string }
    expect(await statusOf(url)).toEqual({ status: 401, type: expect.stringContaining('application/problem+json') })
    expect((await statusOf(url, { Authorization: `Bearer ${tenant}` })).status).toBe(403)
    expect((await statusOf(url, {}, `?access_token=${ticket}`)).status).toBe(403)
    expect(await statusOf(url, { Authorization: `Bearer ${admin}` })).toEqual({ status: 200, type: expect.stringContaining('text/event-stream') })
  })

  test('with --metrics-public: anyone, like /metrics', async () => {
    expect((await statusOf(publicMetrics!.url)).status).toBe(200)
    expect((await fetch(`${publicMetrics!.url}/v1/stats`)).status).toBe(200)
  })
})
