import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { startTarget, type Target, TARGETS } from '../helpers/targets'
import { WsTestClient } from '../helpers/ws-client'

// A socket fed garbage keeps answering: an `error` per bad frame, `pong` to pings, never a close, never a crash.

const garbage: [string, string | Uint8Array][] = [
  ['an empty frame', ''],
  ['whitespace', '   '],
  ['a binary frame', new Uint8Array([1, 2, 3, 255])],
  ['an empty binary frame', new Uint8Array(0)],
  ['a JSON number', '42'],
  ['a JSON string', '"subscribe"'],
  ['a JSON array', '[{"op":"ping"}]'],
  ['null', 'null'],
  ['a slash', '/'],
  ['no op', '{"sub":"x"}'],
  ['an unknown op', '{"op":"explode"}'],
  ['op of the wrong type', '{"op":7}'],
  ['subscribe without streams', '{"op":"subscribe","sub":"s"}'],
  ['streams of the wrong type', '{"op":"subscribe","sub":"s","streams":"jobs.*"}'],
  ['a bad pattern', '{"op":"subscribe","sub":"s","streams":["a.**.b"]}'],
  ['after of the wrong type', '{"op":"subscribe","sub":"s","streams":["a.b"],"after":"x"}'],
  ['a huge sub id', JSON.stringify({ op: 'subscribe', sub: 'x'.repeat(100_000), streams: ['a.b'] })],
  ['unsubscribe of nothing', '{"op":"unsubscribe","sub":"never"}'],
  ['publish to a bad name', '{"op":"publish","stream":"a..b","data":1}'],
  ['publish with an unknown field', '{"op":"publish","stream":"a.b","data":1,"colour":"red"}'],
  ['ack of a missing group', '{"op":"ack","group":"nope","ids":[1]}'],
  ['consume of a missing group', '{"op":"consume","sub":"c","group":"nope"}'],
  ['truncated JSON', '{"op":"ping"'],
]

const frame = fc.oneof(
  fc.string(),
  fc.json(),
  fc.record({ op: fc.constantFrom('subscribe', 'unsubscribe', 'publish', 'ping', 'consume', 'ack', 'nack', 'extend', 'term', 'x'), sub: fc.oneof(fc.string(), fc.integer()), streams: fc.array(fc.string()), ids: fc.array(fc.anything()), after: fc.anything() }, { requiredKeys: ['op'] }).map((o) => JSON.stringify(o)),
  fc.uint8Array({ maxLength: 64 }),
)

describe.each(TARGETS)('%s', (kind) => {
  let server: Target
  beforeAll(async () => {
    server = await startTarget(kind)
  })
  afterAll(() => server?.close())

  const open = () => WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws`)

  /** Sends a ping and waits for its pong: everything sent before it has been answered. */
  async function pong(ws: WsTestClient, ref: string): Promise<void> {
    ws.send({ op: 'ping', ref })
    expect(await ws.next((m) => m.op === 'pong' && m.ref === ref)).toMatchObject({ op: 'pong', ref })
  }

  test.each(garbage)('%s gets an error reply and the socket stays', async (_, bad) => {
    const ws = await open()
    try {
      ws.socket.send(bad)
      const reply = await ws.next((m) => m.op === 'error')
      expect(typeof reply.error.code).toBe('string')
      expect(typeof reply.error.message).toBe('string')
      await pong(ws, 'after')
      expect(ws.closeCode).toBeUndefined()
    } finally {
      ws.close()
    }
  })

  test('100 KB pings are answered (refused: their ref is past 128 characters), and a plain ping after them gets its pong', async () => {
    const ws = await open()
    try {
      for (let i = 0; i < 5; i++) ws.send({ op: 'ping', ref: `${i}`.repeat(100_000) })
      for (let i = 0; i < 5; i++) expect(await ws.next((m) => m.op === 'error' || m.op === 'pong')).toMatchObject({ op: 'error', error: { code: 'invalid_body' } })
      await pong(ws, 'r'.repeat(128))
    } finally {
      ws.close()
    }
  })

  test('200 random frames: every one is answered or harmless, the socket stays open, the server stays up', async () => {
    const frames = fc.sample(frame, { numRuns: 200, seed: 42 })
    const ws = await open()
    try {
      for (const f of frames) ws.socket.send(f)
      await pong(ws, 'end')
      expect(ws.closeCode).toBeUndefined()
      expect(ws.messages.every((m) => typeof m.op === 'string')).toBe(true)
      expect(ws.messages.filter((m) => m.op === 'error').length).toBeGreaterThan(100)
    } finally {
      ws.close()
    }
    const health = await fetch(`${server.url}/healthz`)
    expect(health.status).toBe(200)
    const rejected = await (await fetch(`${server.url}/metrics`)).text()
    expect(rejected).not.toContain('code="internal"')
  })
})
