import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { type BinaryServer, exportNdjson, requireBinary, startBinary, tempDir } from '../helpers/binary'

/**
 * Real Chromium against the compiled binary: a page on another origin (allowed by --cors-origin)
 * follows one stream with a plain EventSource and with a plain WebSocket, across a server restart.
 */

const CHROMIUM = '/usr/bin/chromium'
const STREAM = 'b.1'

let dir: string
let profile: string
let pageServer: ReturnType<typeof Bun.serve>
let ringcast: BinaryServer | undefined
let context: BrowserContext
let page: Page
const pageLog: string[] = []

function pageHtml(ringcastUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>ringcast browser test</title></head>
<body>
<script>
  const RC = ${JSON.stringify(ringcastUrl)}
  // (a) EventSource: it reconnects by itself and sends Last-Event-ID.
  window.got = []
  window.esOpens = 0
  window.esErrors = 0
  const es = new EventSource(RC + '/v1/streams/${STREAM}/events?after=0')
  es.onopen = () => { window.esOpens++ }
  es.onerror = () => { window.esErrors++ }
  es.onmessage = (e) => {
    const env = JSON.parse(e.data)
    window.got.push({ id: Number(e.lastEventId), envId: env.id, stream: env.stream, data: env.data })
  }
  window.esState = () => es.readyState

  // (b) WebSocket: re-subscribes with after = the last id it received, after every reconnect.
  window.wsGot = []
  window.wsOther = []
  window.wsOpens = 0
  window.wsSubscribed = 0
  window.wsLive = 0
  let last = 0
  function connect() {
    const ws = new WebSocket(RC.replace(/^http/, 'ws') + '/v1/ws')
    ws.onopen = () => {
      window.wsOpens++
      ws.send(JSON.stringify({ op: 'subscribe', sub: 's1', streams: ['${STREAM}'], after: last }))
    }
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data)
      if (msg.op === 'event') {
        last = msg.event.id
        window.wsGot.push({ id: msg.event.id, stream: msg.event.stream, data: msg.event.data })
      } else if (msg.op === 'ok' && msg.sub === 's1') {
        window.wsSubscribed++
      } else if (msg.op === 'live' && msg.sub === 's1') {
        window.wsLive++
      } else {
        window.wsOther.push(msg)
      }
    }
    ws.onclose = () => setTimeout(connect, 200)
  }
  connect()
</script>
</body></html>`
}

beforeAll(async () => {
  requireBinary()
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI does it in .ci/run)`)
  dir = tempDir('ringcast-browser-')
  profile = tempDir('ringcast-chromium-')
  let html = ''
  pageServer = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }) })
  const pageOrigin = `http://127.0.0.1:${pageServer.port}`
  ringcast = await startBinary({ dataFile: join(dir, 'browser.db'), args: ['--cors-origin', pageOrigin] })
  html = pageHtml(ringcast.url)
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  page = context.pages()[0] ?? (await context.newPage())
  page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`))
  await page.goto(pageOrigin)
}, 30_000)

afterAll(async () => {
  await context?.close()
  await ringcast?.dispose()
  pageServer?.stop(true)
  if (profile) rmSync(profile, { recursive: true, force: true })
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Publishes one event with an idempotency key, retrying (same key) until the server acknowledges it. */
async function publishUntilAcked(url: () => string, n: number, deadline: number): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(`${url()}/v1/streams/${STREAM}/events`, {
        method: 'POST',
        body: JSON.stringify({ type: 'message', data: { n }, key: `n-${n}` }),
        headers: { 'Content-Type': 'application/json' },
        signal: AbortSignal.timeout(2000),
      })
      if (res.status === 201 || res.status === 200) return ((await res.json()) as any).id
    } catch {
      // Server down (restarting): retry with the same key.
    }
    if (Date.now() > deadline) throw new Error(`event ${n} was never acknowledged`)
    await Bun.sleep(25)
  }
}

async function waitCounts(n: number, timeout = 20_000): Promise<void> {
  try {
    await page.waitForFunction((want) => (globalThis as any).got.length >= want && (globalThis as any).wsGot.length >= want, n, { timeout, polling: 50 })
  } catch (error) {
    const state = await page.evaluate(() => ({ got: (globalThis as any).got.length, wsGot: (globalThis as any).wsGot.length, es: (globalThis as any).esState(), wsOther: (globalThis as any).wsOther }))
    throw new Error(`page did not reach ${n} events: ${JSON.stringify(state)}\n${pageLog.join('\n')}\nserver stderr:\n${ringcast?.stderr}\n${(error as Error).message}`)
  }
}

test('EventSource and WebSocket in Chromium receive every event once, in order, across a server restart', async () => {
  const server = ringcast!
  // Both transports are connected (the EventSource opened across origins thanks to CORS).
  await page.waitForFunction(() => (globalThis as any).esOpens >= 1 && (globalThis as any).wsSubscribed >= 1, null, { timeout: 10_000 })

  const FIRST = 20
  const TOTAL = 80
  const deadline = Date.now() + 40_000
  let url = server.url
  const ids: number[] = []
  for (let n = 0; n < FIRST; n++) ids.push(await publishUntilAcked(() => url, n, deadline))
  await waitCounts(FIRST)

  // Keep publishing while the server is stopped (SIGTERM) and started again on the same port and file.
  let restarted: BinaryServer | undefined
  const publisher = (async () => {
    for (let n = FIRST; n < TOTAL; n++) {
      ids.push(await publishUntilAcked(() => url, n, deadline))
      await Bun.sleep(10)
    }
  })()
  while (ids.length < FIRST + 10) await Bun.sleep(5)
  const { code, ms } = await server.terminate(8000)
  expect(code).toBe(0)
  expect(ms).toBeLessThan(5000)
  restarted = await startBinary({ dataFile: server.dataFile, port: server.port, args: ['--cors-origin', new URL(page.url()).origin] })
  ringcast = restarted
  url = restarted.url
  await publisher
  await server.dispose()

  // Every acknowledged event is stored once (retries reused their idempotency keys).
  const stored = await exportNdjson(restarted.url, [STREAM])
  expect(stored.map((e) => e.id)).toEqual(ids)
  expect(stored.map((e) => e.data.n)).toEqual(Array.from({ length: TOTAL }, (_, n) => n))

  await waitCounts(TOTAL, 20_000)
  const got = await page.evaluate(() => (globalThis as any).got)
  const wsGot = await page.evaluate(() => (globalThis as any).wsGot)
  const expected = stored.map((e) => ({ id: e.id, stream: STREAM, data: e.data }))
  // EventSource: each event once, in order, lastEventId equal to the envelope's id.
  expect(got.map((g: any) => ({ id: g.id, stream: g.stream, data: g.data }))).toEqual(expected)
  expect(got.every((g: any) => g.id === g.envId)).toBe(true)
  // WebSocket: the same.
  expect(wsGot).toEqual(expected)

  // The restart really was seen by both: the EventSource reconnected, the page's socket re-subscribed.
  const seen = await page.evaluate(() => ({ esOpens: (globalThis as any).esOpens, esErrors: (globalThis as any).esErrors, wsOpens: (globalThis as any).wsOpens, wsSubscribed: (globalThis as any).wsSubscribed, wsLive: (globalThis as any).wsLive, wsOther: (globalThis as any).wsOther, es: (globalThis as any).esState() }))
  expect(seen.esOpens).toBeGreaterThanOrEqual(2)
  expect(seen.esErrors).toBeGreaterThanOrEqual(1)
  expect(seen.es).toBe(1) // OPEN: still following the stream
  expect(seen.wsOpens).toBeGreaterThanOrEqual(2)
  expect(seen.wsSubscribed).toBe(seen.wsOpens)
  // Each subscribe with after replays, then says it is live.
  expect(seen.wsLive).toBe(seen.wsSubscribed)
  expect(seen.wsOther).toEqual([])
  expect(pageLog.filter((l) => l.startsWith('pageerror'))).toEqual([])
}, 60_000)

test('a cross-origin fetch from the page can poll and publish (CORS allows the configured origin)', async () => {
  const rc = ringcast!.url
  const result = await page.evaluate(async (base) => {
    const pub = await fetch(`${base}/v1/streams/b.cors/events`, { method: 'POST', body: JSON.stringify({ data: 'from page' }), headers: { 'Content-Type': 'application/json' } })
    const poll = await fetch(`${base}/v1/streams/b.cors/events?after=0`)
    return { pub: pub.status, poll: poll.status, body: (await poll.json()) as any }
  }, rc)
  expect(result.pub).toBe(201)
  expect(result.poll).toBe(200)
  expect(result.body.events.map((e: any) => e.data)).toEqual(['from page'])
})

test('EventSource on a stream that closes gets the end event and then stops reconnecting (204 readable across origins)', async () => {
  const rc = ringcast!.url
  await page.evaluate((base) => {
    const w = globalThis as any
    w.endGot = []
    w.endEvents = 0
    const es = new w.EventSource(`${base}/v1/streams/b.end/events?after=0`)
    w.endEs = es
    es.onmessage = (e: { lastEventId: string }) => w.endGot.push(Number(e.lastEventId))
    es.addEventListener('end', () => w.endEvents++)
  }, rc)
  // The page subscribes before the stream exists; wait until the server lists the subscription.
  const deadline = Date.now() + 5000
  while (!JSON.stringify(await (await fetch(`${rc}/v1/connections`)).json()).includes('b.end')) {
    if (Date.now() > deadline) throw new Error('the EventSource never subscribed')
    await Bun.sleep(20)
  }
  const res = await fetch(`${rc}/v1/streams/b.end/events`, { method: 'POST', body: JSON.stringify([{ data: 1 }, { data: 2 }, { data: 3, terminal: true }]), headers: { 'Content-Type': 'application/json' } })
  expect(res.status).toBe(201)
  const ids = ((await res.json()) as any[]).map((e) => e.id)
  // All three arrive, then `end`; the reconnect answers 204 and the EventSource goes CLOSED (2) instead of retrying forever.
  await page.waitForFunction(() => (globalThis as any).endEs.readyState === 2, null, { timeout: 10_000 })
  const state = await page.evaluate(() => ({ got: (globalThis as any).endGot, ends: (globalThis as any).endEvents }))
  expect(state.got).toEqual(ids)
  expect(state.ends).toBe(1)
  // CLOSED must come from the 204 (a CORS failure would close it too): the 204 carries the CORS headers.
  const origin = new URL(page.url()).origin
  const again = await fetch(`${rc}/v1/streams/b.end/events`, { headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(ids[2]), Origin: origin } })
  expect(again.status).toBe(204)
  expect(again.headers.get('access-control-allow-origin')).toBe(origin)
})

test('an error answer is readable by the page across origins (problem+json with CORS headers)', async () => {
  const result = await page.evaluate(async (base) => {
    const bad = await fetch(`${base}/v1/streams/bad..name/events`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } })
    return { status: bad.status, type: bad.headers.get('content-type'), body: (await bad.json()) as any }
  }, ringcast!.url)
  expect(result.status).toBe(400)
  expect(result.type).toContain('application/problem+json')
  expect(typeof result.body.detail).toBe('string')
})

test('an origin that is not configured is refused by the browser', async () => {
  const other = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('<!doctype html><title>other</title>', { headers: { 'Content-Type': 'text/html' } }) })
  const p = await context.newPage()
  try {
    await p.goto(`http://127.0.0.1:${other.port}`)
    const outcome = await p.evaluate(async (base) => {
      try {
        await fetch(`${base}/v1/streams/b.1/events?after=0`)
        return 'allowed'
      } catch {
        return 'blocked'
      }
    }, ringcast!.url)
    expect(outcome).toBe('blocked')
  } finally {
    await p.close()
    other.stop(true)
  }
})
