import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Child, requireBinary, runBinary, spawnBinary, tempDir } from '../helpers/binary'
import { WsTestClient } from '../helpers/ws-client'

// A self-signed certificate for 127.0.0.1, made by Debian's openssl; clients trust exactly it (tls.ca).
async function selfSigned(dir: string, name: string): Promise<{ cert: string; key: string; pem: string }> {
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]
  const proc = Bun.spawn(['openssl', ...args], { stdout: 'ignore', stderr: 'pipe' })
  if ((await proc.exited) !== 0) throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`)
  return { cert, key, pem: readFileSync(cert, 'utf8') }
}

let dir: string
let first: { cert: string; key: string; pem: string }
let second: { cert: string; key: string; pem: string }
beforeAll(async () => {
  requireBinary()
  dir = tempDir('ringcast-tls-')
  ;[first, second] = await Promise.all([selfSigned(dir, 'first'), selfSigned(dir, 'second')])
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('--tls-cert / --tls-key', () => {
  let server: Child
  let url: string
  const live = { cert: '', key: '' }
  beforeAll(async () => {
    live.cert = join(dir, 'live.crt')
    live.key = join(dir, 'live.key')
    copyFileSync(first.cert, live.cert)
    copyFileSync(first.key, live.key)
    server = spawnBinary(['serve', '--port', '0', '--data', join(dir, 'tls.db'), '--tls-cert', live.cert, '--tls-key', live.key])
    url = (await server.waitFor(/ringcast listening url="(https:\/\/[^"]+)"/))[1]
  })
  afterAll(async () => {
    await server?.dispose()
  })
  const get = (path: string, ca: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, tls: { ca } } as RequestInit)
  const publish = (data: unknown, ca: string) => get('/v1/streams/tls.1/events', ca, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ data }) }).then((r) => r.json() as Promise<any>)

  test('serves HTTPS that a verifying client accepts, and a client that does not trust the certificate refuses', async () => {
    expect((await get('/healthz', first.pem)).status).toBe(200)
    expect(await fetch(`${url}/healthz`).then(() => 'connected', () => 'refused')).toBe('refused')
  })

  test('serves WSS on the same port', async () => {
    const ws = await WsTestClient.open(`${url.replace('https', 'wss')}/v1/ws`, { tls: { ca: first.pem } })
    ws.send({ op: 'subscribe', sub: 's1', streams: ['wss.*'] })
    await ws.next((m) => m.op === 'ok')
    ws.send({ op: 'publish', ref: 'r1', stream: 'wss.1', data: 'over wss' })
    const [event] = await ws.events(1)
    ws.close()
    expect(event).toMatchObject({ stream: 'wss.1', data: 'over wss' })
  })

  test('SIGHUP reloads the files: new connections get the new certificate, an open SSE stream goes on', async () => {
    const sse = await get('/v1/streams/tls.1/events', first.pem, { headers: { Accept: 'text/event-stream' } })
    const reader = sse.body!.getReader()
    let text = ''
    const read = async (what: string) => {
      const deadline = Date.now() + 5000
      while (!text.includes(what)) {
        if (Date.now() > deadline) throw new Error(`${what} not received; got ${text}`)
        text += new TextDecoder().decode((await reader.read()).value)
      }
    }
    await read('retry:')
    const before = await publish('before reload', first.pem)
    await read('"before reload"')

    copyFileSync(second.cert, live.cert)
    copyFileSync(second.key, live.key)
    server.kill('SIGHUP')
    await server.waitFor(/INFO  tls reloaded/)
    expect((await get('/healthz', second.pem)).status).toBe(200)
    expect(await get('/healthz', first.pem).then(() => 'connected', () => 'refused')).toBe('refused')
    const after = await publish('after reload', second.pem)
    await read('"after reload"')
    await reader.cancel()
    expect(after.id).toBe(before.id + 1)
    expect(server.isRunning).toBe(true)
  })

  test('a SIGHUP with files that do not fit is logged, and the server keeps the certificate it has', async () => {
    writeFileSync(live.key, readFileSync(first.key))
    server.kill('SIGHUP')
    await server.waitFor(/ERROR tls reload failed; new connections keep the previous certificate error=".*--tls-cert/)
    expect((await get('/healthz', second.pem)).status).toBe(200)
  })
})

describe('bad TLS settings stop start-up with one line', () => {
  const rows: [string, () => string[], RegExp][] = [
    ['a certificate without its key', () => ['--tls-cert', first.cert], /^ringcast: invalid --tls-cert: it needs --tls-key as well/],
    ['a key that does not belong to the certificate', () => ['--tls-cert', first.cert, '--tls-key', second.key], /^ringcast: invalid --tls-cert .* \/ --tls-key .*: .*KEY_VALUES_MISMATCH/i],
    ['a certificate file that does not exist', () => ['--tls-cert', join(dir, 'missing.crt'), '--tls-key', first.key], /^ringcast: invalid --tls-cert .*missing\.crt: cannot read it/],
  ]
  for (const [name, args, message] of rows) {
    test(name, async () => {
      const { code, stdout, stderr } = await runBinary(['serve', '--port', '0', '--data', ':memory:', ...args()], { timeoutMs: 4000 })
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(stderr).toMatch(message)
    })
  }
})
