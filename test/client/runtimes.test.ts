import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'
import { exportNdjson, tempDir } from '../helpers/binary'
import { hsToken, TEST_SECRET } from '../helpers/tokens'
import { Restartable } from './support'

/**
 * The built bundle where users run it: in Node, imported as `ringcast/client` from an installed
 * package, and in Chromium, served to a page on another origin, over both transports.
 */

const ROOT = resolve(import.meta.dir, '../..')
const BUNDLE = join(ROOT, 'dist/client/index.js')
const CHROMIUM = '/usr/bin/chromium'

let dir: string
let pageServer: ReturnType<typeof Bun.serve> | undefined
const server = new Restartable()
const secured = new Restartable(['--jwt-secret', TEST_SECRET])
let cors: Restartable | undefined

beforeAll(async () => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
  dir = tempDir('ringcast-runtimes-')
  await server.start()
})

afterAll(async () => {
  pageServer?.stop(true)
  await Promise.all([server.dispose(), secured.dispose(), cors?.dispose()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const NODE_APP = `
import { Ringcast } from 'ringcast/client'
const rc = new Ringcast({ url: process.argv[2] })
const sub = rc.subscribe({ streams: ['node.*'] })
sub.on('state', async (state) => {
  if (state === 'open') console.log(JSON.stringify({ published: (await rc.publish('node.1', [{ data: 'a' }, { data: 'b' }])).map((e) => e.id) }))
})
const got = []
for await (const event of sub) if (got.push(event.id) === 2) break
console.log(JSON.stringify({ got }))
try {
  rc.subscribe({ streams: ['node.*'], transport: 'ws' }).close()
  console.log(JSON.stringify({ ws: 'available' }))
} catch (error) {
  console.log(JSON.stringify({ ws: error.code, hasWebSocket: typeof WebSocket === 'function' }))
}
await rc.close()
`

const NODE_REFUSED = `
import { Ringcast } from 'ringcast/client'
const rc = new Ringcast({ url: process.argv[2], transport: 'ws', token: 'not-a-token' })
const worker = rc.worker('any', () => {})
const error = await new Promise((resolve) => worker.on('error', resolve))
console.log(JSON.stringify({ status: error.status, code: error.code }))
await rc.close()
`

test('Node imports ringcast/client from an installed package, subscribes and publishes', async () => {
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(ROOT, join(dir, 'node_modules/ringcast'))
  writeFileSync(join(dir, 'app.mjs'), NODE_APP)
  const proc = Bun.spawn(['node', 'app.mjs', server.url], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
  const timer = setTimeout(() => proc.kill(), 15_000)
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  clearTimeout(timer)
  expect(err).toBe('')
  expect(code).toBe(0)
  const lines = out.trim().split('\n').map((line) => JSON.parse(line))
  const { published } = lines.find((l) => l.published)
  expect(lines.find((l) => l.got).got).toEqual(published)
  const ws = lines.find((l) => l.ws)
  // Node 20 has no global WebSocket: the error must say so (Node 22 has one).
  expect(ws.ws).toBe(ws.hasWebSocket === false ? 'no_websocket' : 'available')
}, 20_000)

test('Node (its own WebSocket) sees a token refused on the socket as a 401, not a network failure', async () => {
  await secured.start()
  writeFileSync(join(dir, 'refused.mjs'), NODE_REFUSED)
  // Node 20 has WebSocket behind this flag (undici's, the one Node 22 ships enabled).
  const { stdout, stderr, exitCode } = Bun.spawnSync(['node', '--experimental-websocket', '--no-warnings', 'refused.mjs', secured.url], { cwd: dir, timeout: 15_000 })
  expect(stderr.toString()).toBe('')
  expect(exitCode).toBe(0)
  expect(JSON.parse(stdout.toString())).toEqual({ status: 401, code: 'unauthorized' })
}, 20_000)

const PAGE = (url: string, token: string) => `<!doctype html><meta charset="utf-8"><title>ringcast client</title>
<script type="module">
  import { Ringcast } from '/client.js'
  window.results = {}
  for (const transport of ['sse', 'ws']) {
    const rc = new Ringcast({ url: ${JSON.stringify(url)}, transport, token: ${JSON.stringify(token)} })
    const sub = rc.subscribe({ streams: ['page.' + transport], after: 0 })
    const published = (await rc.publish('page.' + transport, [{ data: 1 }, { data: 2 }, { data: 3 }])).map((e) => e.id)
    const got = []
    for await (const event of sub) if (got.push(event.id) === 3) break
    window.results[transport] = { published, got }
    await rc.close()
  }
  // A refused token: what the page's own WebSocket sees, and what the client reports.
  const socket = new WebSocket(${JSON.stringify(url.replace(/^http/, 'ws'))} + '/v1/ws?access_token=not-a-token')
  window.results.socket = await new Promise((resolve) => (socket.onclose = (e) => resolve({ code: e.code, reason: e.reason })))
  const refused = new Ringcast({ url: ${JSON.stringify(url)}, transport: 'ws', token: 'not-a-token' })
  const worker = refused.worker('any', () => {})
  window.results.worker = await new Promise((resolve) => worker.on('error', (e) => resolve({ status: e.status, code: e.code })))
  await refused.close()
  window.isDone = true
</script>`

test('Chromium runs the bundle from another origin over SSE and WebSocket; a refused token is a 401 there too', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
  let html = ''
  pageServer = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) =>
      new URL(request.url).pathname === '/client.js'
        ? new Response(Bun.file(BUNDLE), { headers: { 'Content-Type': 'text/javascript' } })
        : new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }),
  })
  const origin = `http://127.0.0.1:${pageServer.port}`
  cors = await new Restartable(['--cors-origin', origin, '--jwt-secret', TEST_SECRET]).start()
  const token = await hsToken(TEST_SECRET, { publish: ['page.*'], subscribe: ['page.*'] }, { expiresInSec: 600 })
  html = PAGE(cors.url, token)
  const profile = join(dir, 'chromium')
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(origin)
    await page.waitForFunction(() => (globalThis as { isDone?: boolean }).isDone === true, undefined, { timeout: 15_000 }).catch(() => {
      throw new Error(`the page did not finish: ${problems.join('; ')}`)
    })
    const results = (await page.evaluate(() => (globalThis as { results?: unknown }).results)) as Record<string, any>
    for (const transport of ['sse', 'ws']) {
      expect(results[transport].got).toEqual(results[transport].published)
      expect((await exportNdjson(cors.url, [`page.${transport}`], 0, { Authorization: `Bearer ${token}` })).map((e) => e.id)).toEqual(results[transport].published)
    }
    // A browser cannot read the status of a refused upgrade; it can read this close.
    expect(results.socket).toEqual({ code: 4001, reason: expect.stringContaining('Invalid token') })
    expect(results.worker).toEqual({ status: 401, code: 'unauthorized' })
    expect(problems).toEqual([])
  } finally {
    await context.close()
  }
}, 30_000)
