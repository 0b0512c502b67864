import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { gunzipSync } from 'node:zlib'
import { type BinaryServer, post, requireBinary, startBinary } from '../helpers/binary'
import { RawSseClient } from '../helpers/raw-clients'

// An SSE subscription that receives no event for `?timeout=` seconds (or --idle-timeout) is ended
// in-band with `event: end` {"reason":"timeout"}, and its response is finished, not cut.

let server: BinaryServer
let idle: BinaryServer
beforeAll(async () => {
  requireBinary()
  ;[server, idle] = await Promise.all([startBinary(), startBinary({ args: ['--idle-timeout', '1'] })])
})
afterAll(async () => {
  await Promise.all([server?.dispose(), idle?.dispose()])
})

const TIMEOUT_END = 'event: end\ndata: {"reason":"timeout"}\n\n'

describe('?timeout=SECONDS', () => {
  test('a quiet subscription gets event: end {"reason":"timeout"}, then its response ends', async () => {
    const started = Date.now()
    const sse = await RawSseClient.open(server.port, '/v1/streams/idle.quiet/events?timeout=1')
    await sse.ended(5000)
    expect(sse.isEnded).toBe(true) // the last chunk came: a graceful end, not a dropped socket
    expect(sse.body).toEndWith(TIMEOUT_END)
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
  })

  test('every event received starts the wait again; the end comes a timeout after the last one', async () => {
    const sse = await RawSseClient.open(server.port, '/v1/streams/idle.busy/events?timeout=1')
    try {
      let lastAt = 0
      for (let n = 0; n < 4; n++) {
        // Events closer together than the timeout, for longer than it in all.
        await Bun.sleep(500)
        const { body } = await post(server.url, 'idle.busy', { data: n })
        await sse.until(() => sse.body.includes(`id: ${body.id}\n`), 5000, `event ${n}`)
        lastAt = Date.now()
        expect(sse.body).not.toContain('event: end')
      }
      await sse.ended(5000)
      expect(sse.body).toEndWith(TIMEOUT_END)
      expect(Date.now() - lastAt).toBeGreaterThanOrEqual(900)
    } finally {
      sse.destroy()
    }
  }, 10_000)

  test('a gzip response that times out ends as a complete gzip member', async () => {
    const sse = await RawSseClient.open(server.port, '/v1/streams/idle.gz/events?timeout=1', { 'Accept-Encoding': 'gzip' })
    await sse.ended(5000)
    expect(sse.gzipError).toBeUndefined()
    expect(gunzipSync(Buffer.concat(sse.compressed)).toString()).toEndWith(TIMEOUT_END)
  })

  test('a timeout that is not a whole number of seconds from 1 to 86400 is a 400 naming it', async () => {
    for (const value of ['0', '86401', 'soon', '1.5']) {
      const answer = await fetch(`${server.url}/v1/streams/idle.bad/events?timeout=${value}`, { headers: { Accept: 'text/event-stream' } })
      expect(answer.status).toBe(400)
      expect(answer.headers.get('content-type')).toContain('application/problem+json')
      const problem = (await answer.json()) as { code: string; detail: string }
      expect(problem.code).toBe('invalid_request')
      expect(problem.detail).toStartWith('timeout must be')
    }
  })
})

describe('--idle-timeout SECONDS', () => {
  test('ends every quiet SSE subscription; a longer ?timeout= does not outlast it', async () => {
    const started = Date.now()
    const [plain, longer] = await Promise.all([RawSseClient.open(idle.port, '/v1/streams/idle.server/events'), RawSseClient.open(idle.port, '/v1/streams/idle.server/events?timeout=30')])
    await Promise.all([plain.ended(5000), longer.ended(5000)])
    for (const sse of [plain, longer]) expect(sse.body).toEndWith(TIMEOUT_END)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('is off by default: a quiet subscription outlives a short timeout elsewhere', async () => {
    const quiet = await RawSseClient.open(server.port, '/v1/streams/idle.none/events')
    const timed = await RawSseClient.open(server.port, '/v1/streams/idle.none/events?timeout=1')
    try {
      await timed.ended(5000)
      expect(quiet.isEnded).toBe(false)
      expect(quiet.body).not.toContain('event: end')
    } finally {
      quiet.destroy()
    }
  })
})
