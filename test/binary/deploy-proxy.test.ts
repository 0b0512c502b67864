import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type BinaryServer, Child, freePort, startBinary, tempDir } from '../helpers/binary'
import { WsTestClient } from '../helpers/ws-client'

// deploy/nginx.conf and deploy/Caddyfile pass their own checkers, then carry SSE, long-polls and
// WebSocket to a real server. Only what ties them to a host is rewritten: port, upstream, certificate.

const DEPLOY = resolve(import.meta.dir, '../../deploy')

let server: BinaryServer
let dir: string
beforeAll(async () => {
  server = await startBinary()
  dir = tempDir('ringcast-proxy-')
})
afterAll(async () => {
  await server?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

async function run(cmd: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const child = new Child(Bun.spawn(cmd, { cwd: dir, env: { ...process.env, ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  const code = await child.exit(20_000)
  return { code, output: child.stdout + child.stderr }
}

/** Polls the proxy's /healthz until it answers, with a deadline (the proxy logs nothing we could wait for). */
async function waitProxy(url: string, init: RequestInit, proxy: Child): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (!proxy.isRunning) throw new Error(`the proxy exited: ${proxy.stderr}`)
    if (await fetch(`${url}/healthz`, init).then((r) => r.ok, () => false)) return
    await Bun.sleep(25)
  }
  throw new Error(`${url} did not answer; proxy stderr: ${proxy.stderr}`)
}

/** SSE, a long-poll and a WebSocket subscription, each through the proxy at `url`. */
async function expectStreamingThrough(url: string, tls: { ca: string } | undefined, name: string): Promise<void> {
  const init = (extra: RequestInit = {}) => ({ ...extra, tls }) as RequestInit
  const publish = (stream: string, data: unknown) => fetch(`${url}/v1/streams/${stream}/events`, init({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ data }) })).then((r) => r.json() as Promise<any>)

  const sse = await fetch(`${url}/v1/streams/${name}.sse/events`, init({ headers: { Accept: 'text/event-stream' } }))
  expect(sse.headers.get('content-type')).toContain('text/event-stream')
  const reader = sse.body!.getReader()
  let text = ''
  const read = async (what: string) => {
    while (!text.includes(what)) text += new TextDecoder().decode((await reader.read()).value)
  }
  // The opening comment arrives before any event: the proxy passes writes on as they come.
  await read('retry:')
  const event = await publish(`${name}.sse`, 'through the proxy')
  await read(`"id":${event.id}`)
  await reader.cancel()

  const poll = fetch(`${url}/v1/streams/${name}.poll/events?after=${event.id}&wait=10`, init()).then((r) => r.json() as Promise<any>)
  const later = await publish(`${name}.poll`, 'long-poll')
  expect((await poll).events.map((e: any) => e.id)).toEqual([later.id])

  const ws = await WsTestClient.open(`${url.replace(/^http/, 'ws')}/v1/ws`, tls && { tls })
  ws.send({ op: 'subscribe', sub: 's', streams: [`${name}.ws`] })
  await ws.next((m) => m.op === 'ok')
  const third = await publish(`${name}.ws`, 'websocket')
  expect((await ws.events(1))[0].id).toBe(third.id)
  ws.close()
}

describe('deploy/nginx.conf', () => {
  let nginx: Child | undefined
  let url: string
  let ca: string
  beforeAll(async () => {
    const port = await freePort()
    url = `https://127.0.0.1:${port}`
    const cert = join(dir, 'proxy.crt')
    const key = join(dir, 'proxy.key')
    const openssl = await run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=proxy', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert])
    expect(openssl.code).toBe(0)
    ca = readFileSync(cert, 'utf8')
    const snippet = readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8')
      .replace('listen 443 ssl', `listen 127.0.0.1:${port} ssl`)
      .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${server.port};`)
      .replace(/ssl_certificate .*;/, `ssl_certificate ${cert};`)
      .replace(/ssl_certificate_key .*;/, `ssl_certificate_key ${key};`)
    writeFileSync(join(dir, 'ringcast.conf'), snippet)
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ')
    writeFileSync(join(dir, 'nginx.conf'), `daemon off;\nmaster_process off;\npid ${join(dir, 'nginx.pid')};\nerror_log stderr warn;\nevents {}\nhttp {\n  access_log off;\n  ${temp}\n  include ${join(dir, 'ringcast.conf')};\n}\n`)
  })
  afterAll(async () => {
    await nginx?.dispose()
  })

  test('nginx -t accepts it', async () => {
    const { code, output } = await run(['nginx', '-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'])
    expect(output).toContain('test is successful')
    expect(code).toBe(0)
  })

  test('carries SSE, long-polls and WebSocket over TLS', async () => {
    nginx = new Child(Bun.spawn(['nginx', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { cwd: dir, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
    await waitProxy(url, { tls: { ca } } as RequestInit, nginx)
    await expectStreamingThrough(url, { ca }, 'nginx')
  })
})

describe('deploy/Caddyfile', () => {
  let caddy: Child | undefined
  // Caddy keeps its state under HOME; nothing of the machine's is touched.
  const env = () => ({ HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') })
  afterAll(async () => {
    await caddy?.dispose()
  })

  test('caddy validate accepts it as shipped', async () => {
    const { code, output } = await run(['caddy', 'validate', '--adapter', 'caddyfile', '--config', join(DEPLOY, 'Caddyfile')], env())
    expect(output).toContain('Valid configuration')
    expect(code).toBe(0)
  })

  test('carries SSE, long-polls and WebSocket', async () => {
    const port = await freePort()
    const file = join(dir, 'Caddyfile')
    // Plain HTTP on a free port here: the certificate part is Caddy's own and needs a public name.
    const config = readFileSync(join(DEPLOY, 'Caddyfile'), 'utf8').replace('events.example.com {', `http://127.0.0.1:${port} {`).replace('127.0.0.1:8080', `127.0.0.1:${server.port}`)
    writeFileSync(file, `{\n\tadmin off\n}\n${config}`)
    caddy = new Child(Bun.spawn(['caddy', 'run', '--adapter', 'caddyfile', '--config', file], { cwd: dir, env: { ...process.env, ...env() }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
    const url = `http://127.0.0.1:${port}`
    await waitProxy(url, {}, caddy)
    await expectStreamingThrough(url, undefined, 'caddy')
  })
})
