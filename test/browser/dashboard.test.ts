import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { type BinaryServer, post, startBinary } from '../helpers/binary'
import { SseClient } from '../helpers/sse-client'
import { hsToken, TEST_SECRET } from '../helpers/tokens'

/**
 * The dashboard at `/` of the compiled binary in real Chromium: nothing loaded from other hosts, no
 * script errors, live events within a second, streams paged, charts drawn, and the token flow.
 * Set RINGCAST_SCREENSHOT=docs/dashboard.png to refresh the README's picture (else it goes to dist/).
 */

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = resolve(import.meta.dir, '../..', process.env.RINGCAST_SCREENSHOT ?? 'dist/dashboard.png')
const LOAD_STREAMS = 250
/** Streams a background publisher keeps busy, so the charts, the live view and the screenshot have something to show. */
const BUSY = ['builds.web.17', 'deploys.prod', 'jobs.1', 'jobs.2']
const names = Array.from({ length: LOAD_STREAMS }, (_, i) => `load.${String(i).padStart(3, '0')}`)

let open: BinaryServer | undefined
let keyed: BinaryServer | undefined
let browser: Browser | undefined
const watchers: SseClient[] = []
let traffic: Timer | undefined

/** A page that records every request it makes and every script error or console error. */
async function newPage(): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const context = await browser!.newContext({ viewport: { width: 1440, height: 1100 } })
  const page = await context.newPage()
  const requests: string[] = []
  const problems: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('websocket', (ws) => requests.push(ws.url()))
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  return { page, requests, problems }
}

/** Per chart: pixels painted on its canvas, and those in the page's accent colour (the published line). */
function chartPixels(page: Page): Promise<{ chart: string; painted: number; inAccent: number }[]> {
  return page.evaluate(() => {
    // Runs in the page; the test's TypeScript has no DOM types.
    const doc = (globalThis as any).document
    const n = Number.parseInt((globalThis as any).getComputedStyle(doc.documentElement).getPropertyValue('--accent').trim().slice(1), 16)
    const accent = [n >> 16, (n >> 8) & 255, n & 255]
    return [...doc.querySelectorAll('.chart')].map((chart: any) => {
      const canvas = chart.querySelector('canvas')
      const pixels: Uint8ClampedArray = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
      let painted = 0
      let inAccent = 0
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] > 0) painted++
        if (pixels[i + 3] > 200 && Math.abs(pixels[i] - accent[0]) + Math.abs(pixels[i + 1] - accent[1]) + Math.abs(pixels[i + 2] - accent[2]) < 40) inAccent++
      }
      return { chart: chart.dataset.chart, painted, inAccent }
    })
  })
}

const rowsOf = (page: Page, panel: string) => page.locator(`#${panel} tbody tr`)
const text = (page: Page, selector: string) => page.locator(selector).first().textContent()

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI does it in .ci/run)`)
  ;[open, keyed, browser] = await Promise.all([
    startBinary({ dataFile: ':memory:' }),
    startBinary({ dataFile: ':memory:', args: ['--jwt-secret', TEST_SECRET] }),
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] }),
  ])
  // More streams than one page holds (configured, so created), a consumer group with a worker, and subscribers to list.
  const url = open!.url
  for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((name) => call(url, 'PUT', `/v1/streams/${name}`, {})))
  expect(await call(url, 'PUT', '/v1/groups/mailer', { streams: ['jobs.*'], start: 'earliest' })).toMatchObject({ group: 'mailer' })
  for (const pattern of ['jobs.*', 'load.**']) watchers.push(SseClient.open(`${url}/v1/events?stream=${pattern}`))
  await Promise.all(watchers.map((w) => w.opened()))
  let n = 0
  traffic = setInterval(() => {
    n++
    // Batches of 1 to 5 events that rise and fall, so the charts have a shape.
    const batch = Array.from({ length: 3 + Math.round(2 * Math.sin(n / 40)) }, (_, k) => ({
      type: ['progress', 'stage_completed', 'log'][(n + k) % 3],
      data: { step: n, stage: ['fetch', 'build', 'test', 'ship'][(n + k) % 4], ok: (n + k) % 7 !== 0, took_ms: ((n + k) * 37) % 900 },
    }))
    void post(url, BUSY[n % BUSY.length], batch).catch(() => {})
    if (n % 8 === 0) void work(url).catch(() => {})
  }, 60)
}, 30_000)

/** A JSON call to the open server; resolves with the parsed answer. */
async function call(url: string, method: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } })
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`)
  return res.json()
}

/** The group's worker: claims what is ready and acknowledges it. */
async function work(url: string): Promise<void> {
  const { deliveries } = await call(url, 'POST', '/v1/groups/mailer/claim', { consumer: 'worker-1', max: 100 })
  if (deliveries.length > 0) await call(url, 'POST', '/v1/groups/mailer/ack', { consumer: 'worker-1', ids: deliveries.map((d: { event: { id: number } }) => d.event.id) })
}

afterAll(async () => {
  clearInterval(traffic)
  for (const w of watchers) w.close()
  await browser?.close()
  await Promise.all([open?.dispose(), keyed?.dispose()])
})

test('open server: the page loads only from its own server, shows live events within a second, pages streams and draws its charts', async () => {
  const server = open!
  const { page, requests, problems } = await newPage()
  await page.goto(`${server.url}/`)
  await page.locator('#live [data-role="state"]', { hasText: 'live' }).waitFor({ timeout: 5000 })
  expect(await text(page, '#who')).toBe('open server')

  // An event published after the page opened is drawn, data pretty-printed, within a second.
  const data = { stage: 'render', status: 'ok', took: 1.25, artifacts: [{ name: 'app.tar.gz', bytes: 18432 }, { name: 'app.sbom.json', bytes: 2210 }] }
  const published = await post(server.url, 'jobs.42', { type: 'stage_completed', data })
  const sent = performance.now()
  const row = page.locator(`#live li.event[data-id="${published.body.id}"]`)
  await row.waitFor({ timeout: 1000 })
  expect(performance.now() - sent).toBeLessThan(1000)
  expect(await row.locator('.chip').textContent()).toBe('jobs.42')
  expect(await row.locator('.type').textContent()).toBe('stage_completed')
  // Pretty-printed: indented, with short objects kept on one line.
  const pretty = ['{', '  "stage": "render",', '  "status": "ok",', '  "took": 1.25,', '  "artifacts": [', '    { "name": "app.tar.gz", "bytes": 18432 },', '    { "name": "app.sbom.json", "bytes": 2210 }', '  ]', '}']
  expect(await row.locator('pre.json').textContent()).toBe(pretty.join('\n'))

  // More than two pages of streams, 100 a page: the page walks them with the after= cursor and back.
  const sorted = [...names, ...BUSY, 'jobs.42'].sort()
  const total = sorted.length
  const range = page.locator('#streams [data-role="range"]')
  await range.filter({ hasText: `1–100 of ${total}` }).waitFor({ timeout: 3000 })
  expect(await rowsOf(page, 'streams').count()).toBe(100)
  await page.click('#streams [data-role="next"]')
  await range.filter({ hasText: `101–200 of ${total}` }).waitFor()
  expect(await rowsOf(page, 'streams').first().getAttribute('data-stream')).toBe(sorted[100])
  await page.click('#streams [data-role="next"]')
  await range.filter({ hasText: `201–${total} of ${total}` }).waitFor()
  expect(await rowsOf(page, 'streams').count()).toBe(total - 200)
  expect(await page.locator('#streams [data-role="next"]').isDisabled()).toBe(true)
  await page.click('#streams [data-role="prev"]')
  await range.filter({ hasText: `101–200 of ${total}` }).waitFor()
  const listed = requests.filter((u) => u.includes('/v1/streams?'))
  expect(listed.some((u) => u.includes(`after=${sorted[99]}`))).toBe(true)
  // Never the whole list: every request asks for a page.
  expect(listed.every((u) => /[?&]limit=\d+/.test(u))).toBe(true)

  // A pattern narrows the list; clicking a stream shows its recent events.
  await page.fill('#streams [data-role="filter"]', 'jobs.*')
  await range.filter({ hasText: '1–3 of 3' }).waitFor()
  await page.click('#streams tr[data-stream="jobs.42"]')
  await page.locator(`#stream li.event[data-id="${published.body.id}"]`).waitFor({ timeout: 3000 })
  expect(await text(page, '#stream [data-role="name"]')).toBe('jobs.42')

  // Admin panels: the subscribers and the group are listed.
  await page.locator('#connections tbody tr', { hasText: 'load.**' }).waitFor({ timeout: 5000 })
  await page.locator('#groups tbody tr', { hasText: 'mailer' }).waitFor({ timeout: 5000 })

  // Five charts, each drawn; the published chart shows the events of the last seconds in its own colour.
  await page.locator('#kpis:not([hidden])').waitFor({ timeout: 3000 })
  const drawn = await chartPixels(page)
  expect(drawn.map((c) => c.chart)).toEqual(['published', 'deliveries', 'latency', 'connections', 'slow'])
  expect(drawn.filter((c) => c.painted < 500)).toEqual([])
  expect(drawn[0].inAccent).toBeGreaterThan(20)

  await page.click('#stream [data-role="close"]')
  await page.fill('#streams [data-role="filter"]', '')
  await page.locator('#streams [data-role="filter"]').blur()
  await range.filter({ hasText: `1–100 of ${total}` }).waitFor()
  // Refreshing the README's picture: give the charts a minute of history first.
  if (process.env.RINGCAST_SCREENSHOT) await Bun.sleep(60_000)
  mkdirSync(dirname(SCREENSHOT), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })

  // Nothing from anywhere else: every request and socket went to this server.
  const origin = new URL(server.url)
  expect(requests.filter((u) => new URL(u).host !== origin.host)).toEqual([])
  expect(requests.some((u) => u.endsWith('/ui/uplot.js'))).toBe(true)
  expect(problems).toEqual([])
  await page.context().close()
}, process.env.RINGCAST_SCREENSHOT ? 90_000 : 30_000)

test('with a key: the page asks for a token, keeps it out of URLs, and a tenant sees only its own streams', async () => {
  const server = keyed!
  const admin = await hsToken(TEST_SECRET, { publish: ['**'], subscribe: ['**'], admin: true }, { sub: 'ops' })
  const tenant = await hsToken(TEST_SECRET, { publish: ['team.7.**'], subscribe: ['team.7.**'] }, { sub: 'team-7' })
  const auth = { Authorization: `Bearer ${admin}` }
  for (const name of ['team.7.build', 'team.8.build']) expect((await post(server.url, name, { data: 1 }, undefined, auth)).status).toBe(201)

  const { page, requests, problems } = await newPage()
  await page.goto(`${server.url}/`)
  await page.locator('#login[open]').waitFor({ timeout: 5000 })
  await page.fill('#login textarea', admin)
  await page.click('#login button[type="submit"]')
  await page.locator('#live [data-role="state"]', { hasText: 'live' }).waitFor({ timeout: 5000 })
  expect(await text(page, '#who')).toBe('ops · admin')
  await rowsOf(page, 'streams').filter({ hasText: 'team.8.build' }).waitFor({ timeout: 3000 })
  await page.locator('#connections:not([hidden])').waitFor()
  await page.locator('.chart canvas').nth(4).waitFor({ timeout: 3000 })
  expect(await page.evaluate(() => sessionStorage.getItem('ringcast.token'))).toBe(admin)

  // Sign out, then in as a tenant: its streams only, its patterns live, no admin panel, no charts.
  await page.click('#sign-out')
  await page.locator('#login[open]').waitFor({ timeout: 5000 })
  await page.fill('#login textarea', tenant)
  await page.click('#login button[type="submit"]')
  await page.locator('#live [data-role="state"]', { hasText: 'live' }).waitFor({ timeout: 5000 })
  expect(await page.inputValue('#live [data-role="pattern"]')).toBe('team.7.**')
  await rowsOf(page, 'streams').filter({ hasText: 'team.7.build' }).waitFor({ timeout: 3000 })
  expect(await rowsOf(page, 'streams').count()).toBe(1)
  const published = await post(server.url, 'team.7.build', { type: 'done', data: { ok: true } }, undefined, { Authorization: `Bearer ${tenant}` })
  await page.locator(`#live li.event[data-id="${published.body.id}"]`).waitFor({ timeout: 1000 })
  expect(await page.locator('#connections').isHidden()).toBe(true)
  expect(await page.locator('#groups').isHidden()).toBe(true)
  expect(await page.locator('#charts').isHidden()).toBe(true)

  // Tokens travel in headers only; the event streams were opened with tickets.
  expect(requests.filter((u) => u.includes(admin) || u.includes(tenant))).toEqual([])
  expect(requests.filter((u) => u.includes('/v1/ws?access_token=rct1.')).length).toBeGreaterThanOrEqual(2)
  expect(page.url()).toBe(`${server.url}/`)
  // The 401 before signing in and the tenant's 403s on admin routes are how the page learns what to show.
  expect(problems.filter((p) => !/Failed to load resource: the server responded with a status of 40[13]/.test(p))).toEqual([])
  await page.context().close()
}, 30_000)
