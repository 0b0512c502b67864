import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { startTarget, type Target } from '../helpers/targets'

// Security review, item 3: an open server on loopback obeyed any web page (CSRF through "simple" requests)
// and any name pointing at it (DNS rebinding). Raw HTTP, so the test sets Host as an attacker's page would.

/** Sends one HTTP/1.1 request over a fresh socket; answers the status code. */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries({ ...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' }).map(([k, v]) => `${k}: ${v}`)]
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`)
    })
    let text = ''
    socket.on('data', (chunk) => {
      text += chunk
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (status) {
        resolve(Number(status[1]))
        socket.destroy()
      }
    })
    socket.on('error', reject)
  })
}

describe('an open server', () => {
  let server: Target
  let local: string
  beforeAll(async () => {
    server = await startTarget('binary', { 'cors-origin': 'https://app.example', 'allowed-hosts': 'ringcast.internal' })
    local = `127.0.0.1:${server.port}`
  })
  afterAll(() => server?.close())

  test('refuses a publish and a close from a foreign page (a CORS simple request)', async () => {
    const evil = { Host: local, Origin: 'https://evil.example', 'Content-Type': 'text/plain' }
    expect(await raw(server.port, 'POST', '/v1/streams/prod.deploy/events', evil, 'go')).toBe(403)
    expect(await raw(server.port, 'POST', '/v1/streams/prod.deploy/close', evil)).toBe(403)
    expect(await raw(server.port, 'POST', '/v1/streams/prod.deploy/events', { ...evil, Origin: 'null' }, 'go')).toBe(403)
    const list = (await (await fetch(`${server.url}/v1/streams`)).json()) as { streams: unknown[] }
    expect(list.streams).toEqual([])
  })

  test('refuses a name that is not its own (DNS rebinding)', async () => {
    const rebound = { Host: `rebind.evil.example:${server.port}` }
    expect(await raw(server.port, 'GET', '/v1/connections', rebound)).toBe(403)
    expect(await raw(server.port, 'DELETE', '/v1/streams/kept', rebound)).toBe(403)
    expect(await raw(server.port, 'GET', '/v1/streams/kept/events?after=0', rebound)).toBe(403)
  })

  test('answers its own origin, listed origins, IP addresses, loopback names and --allowed-hosts', async () => {
    const post = (headers: Record<string, string>) => raw(server.port, 'POST', '/v1/streams/ok.1/events', { 'Content-Type': 'application/json', ...headers }, '{"data":1}')
    expect(await post({ Host: local })).toBe(201)
    expect(await post({ Host: local, Origin: `http://${local}` })).toBe(201)
    expect(await post({ Host: `localhost:${server.port}`, Origin: 'https://app.example' })).toBe(201)
    expect(await post({ Host: `[::1]:${server.port}` })).toBe(201)
    expect(await post({ Host: `10.1.2.3:${server.port}` })).toBe(201)
    expect(await post({ Host: 'ringcast.internal' })).toBe(201)
    expect(await post({ Host: 'app.localhost' })).toBe(201)
  })

  test('still refuses a WebSocket upgrade from a foreign page', async () => {
    const status = await raw(server.port, 'GET', '/v1/ws', { Host: local, Origin: 'https://evil.example', Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' })
    expect(status).toBe(403)
  })
})

describe('the checks step aside', () => {
  test('with --allowed-hosts "*", any Host is answered (behind a proxy)', async () => {
    const server = await startTarget('binary', { 'allowed-hosts': '*' })
    try {
      expect(await raw(server.port, 'GET', '/v1/streams', { Host: 'events.example.com' })).toBe(200)
      expect(await raw(server.port, 'POST', '/v1/streams/a.b/events', { Host: 'events.example.com', Origin: 'https://evil.example' }, 'x')).toBe(403)
    } finally {
      await server.close()
    }
  })

  test('with a key configured, every call needs a token instead: a rebound name gets 401', async () => {
    const server = await startTarget('binary', { 'jwt-secret': 'open-mode-secret-0123456789' })
    try {
      expect(await raw(server.port, 'GET', '/v1/connections', { Host: 'rebind.evil.example' })).toBe(401)
    } finally {
      await server.close()
    }
  })
})
