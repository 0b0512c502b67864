import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { startTarget, type Target } from '../helpers/targets'
import { hsToken } from '../helpers/tokens'
import { WsTestClient } from '../helpers/ws-client'

// Security review, item 2: sockets full of distinct long wildcard patterns took RSS from 57 MB to 847 MB
// and made another tenant's publishes 3 600× slower. Against the compiled binary, as users run it.

const SECRET = 'abusive-subscribers-secret-0123'
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
const longToken = (i: number, j: number) => `p${i}x${j}`.padEnd(60, 'abcdefghij')

let server: Target
let tenantB: string
let team7: string
beforeAll(async () => {
  server = await startTarget('binary', { 'jwt-secret': SECRET, 'max-patterns-per-client': '8000' })
  tenantB = await hsToken(SECRET, { publish: ['other.**'], subscribe: ['other.**'] }, { sub: 'tenant-b' })
  team7 = await hsToken(SECRET, { subscribe: ['team.7.**'] }, { sub: 'team7' })
})
afterAll(() => server?.close())

/** Milliseconds for tenant B to get 1000 publishes acknowledged, 50 in flight: the median of three rounds. */
async function publishRound(): Promise<number> {
  const rounds: number[] = []
  for (let r = 0; r < 3; r++) {
    const started = performance.now()
    for (let at = 0; at < 1000; at += 50) {
      const batch = Array.from({ length: 50 }, (_, i) =>
        fetch(`${server.url}/v1/streams/other.stream/events`, { method: 'POST', body: JSON.stringify({ data: at + i }), headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tenantB}` } }),
      )
      for (const res of await Promise.all(batch)) expect(res.status).toBe(201)
    }
    rounds.push(performance.now() - started)
  }
  return rounds.sort((a, b) => a - b)[1]
}

describe('ten sockets that each ask for 256 subscriptions of 64 distinct long wildcard patterns', () => {
  test('are capped per connection and per client, and another tenant keeps its speed and the server its memory', async () => {
    const baseline = await publishRound()
    const rssBefore = rssMb(server.pid!)
    const sockets: WsTestClient[] = []
    const outcomes = { ok: 0, capped: 0 }
    try {
      for (let i = 0; i < 10; i++) {
        const ws = await WsTestClient.open(`${server.url.replace('http', 'ws')}/v1/ws?access_token=${team7}`)
        sockets.push(ws)
        for (let j = 0; j < 256; j++) {
          ws.send({ op: 'subscribe', sub: `s${j}`, streams: Array.from({ length: 64 }, (_, k) => `team.7.${longToken(i, j * 64 + k)}.*`) })
        }
        for (let j = 0; j < 256; j++) {
          const reply = await ws.next((m) => m.sub === `s${j}`)
          if (reply.op === 'ok') outcomes.ok++
          else {
            expect(reply.error.code).toBe('too_many_patterns')
            outcomes.capped++
          }
        }
      }
      // 1024 patterns per connection (16 subscribes), until the client's 8000 run out.
      expect(outcomes.ok).toBe(8000 / 64)
      expect(outcomes.capped).toBe(2560 - outcomes.ok)
      const loaded = await publishRound()
      const rssAfter = rssMb(server.pid!)
      console.log(`1000 publishes: ${baseline.toFixed(0)} ms before, ${loaded.toFixed(0)} ms with the abusive sockets; RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`)
      expect(loaded).toBeLessThanOrEqual(baseline * 3)
      expect(rssAfter - rssBefore).toBeLessThan(64)
      // The sockets themselves still work.
      sockets[0].send({ op: 'ping', ref: 'p' })
      expect(await sockets[0].next((m) => m.ref === 'p')).toMatchObject({ op: 'pong' })
    } finally {
      for (const ws of sockets) ws.close()
    }
  }, 120_000)
})

describe('--max-streams', () => {
  test('a publish that would create one stream too many is refused with a problem that says so; the others go on', async () => {
    const capped = await startTarget('binary', { 'max-streams': '3' })
    try {
      const post = (stream: string) => fetch(`${capped.url}/v1/streams/${stream}/events`, { method: 'POST', body: '{"data":1}', headers: { 'Content-Type': 'application/json' } })
      for (const s of ['a.1', 'a.2', 'a.3']) expect((await post(s)).status).toBe(201)
      const refused = await post('a.4')
      expect(refused.status).toBe(507)
      const problem = (await refused.json()) as { code: string; detail: string; hint: string }
      expect(problem.code).toBe('too_many_streams')
      expect(problem.detail).toContain('maximum of 3 streams')
      expect(problem.hint).toContain('--max-streams')
      expect((await post('a.1')).status).toBe(201)
      expect((await fetch(`${capped.url}/v1/streams/a.2`, { method: 'DELETE' })).status).toBe(204)
      expect((await post('a.4')).status).toBe(201)
      const list = (await (await fetch(`${capped.url}/v1/streams`)).json()) as { streams: { stream: string }[]; total: number }
      expect(list.streams.map((s) => s.stream)).toEqual(['a.1', 'a.3', 'a.4'])
      expect(list.total).toBe(3)
    } finally {
      await capped.close()
    }
  })
})
