import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig, SETTINGS } from '../../src/config'
import { BINARY, Child, requireBinary, startBinary, tempDir } from '../helpers/binary'
import { RawSseClient } from '../helpers/raw-clients'

const DEPLOY = resolve(import.meta.dir, '../../deploy')

let dir: string
beforeAll(() => {
  requireBinary()
  dir = tempDir('ringcast-deploy-')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function run(cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Child(Bun.spawn(cmd, { cwd: dir, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  const code = await child.exit(20_000)
  return { code, stdout: child.stdout, stderr: child.stderr }
}

describe('deploy/ringcast.service', () => {
  const unit = readFileSync(join(DEPLOY, 'ringcast.service'), 'utf8')
  // systemd-analyze checks that ExecStart exists: point it at the binary built here.
  const verify = async (text: string, name: string) => {
    mkdirSync(join(dir, name))
    const file = join(dir, name, 'ringcast.service')
    writeFileSync(file, text.replaceAll('/usr/local/bin/ringcast', BINARY))
    return run(['systemd-analyze', 'verify', file])
  }

  test('is hardened as asked: its own dynamic user and state directory, a read-only system, room for many sockets', () => {
    for (const line of ['DynamicUser=yes', 'StateDirectory=ringcast', 'ProtectSystem=strict', 'LimitNOFILE=1048576', 'NoNewPrivileges=yes', 'ExecReload=/bin/kill -HUP $MAINPID']) expect(unit).toContain(`\n${line}\n`)
  })

  test('systemd-analyze verify finds nothing to say, as shipped', async () => {
    expect(await verify(unit, 'plain')).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  test('nor with its TLS lines uncommented', async () => {
    const tls = unit.replace(/^#(SupplementaryGroups|AmbientCapabilities|CapabilityBoundingSet|Environment=RINGCAST_HOST)/gm, '$1')
    expect(tls).toMatch(/^Environment=.*RINGCAST_TLS_CERT/m)
    expect(await verify(tls, 'tls')).toEqual({ code: 0, stdout: '', stderr: '' })
  })
})

describe('deploy/ringcast.json', () => {
  const text = readFileSync(join(DEPLOY, 'ringcast.json'), 'utf8')

  test('sets every setting a config file can hold, and stream defaults', () => {
    const keys = Object.keys(JSON.parse(text))
    expect(keys.sort()).toEqual([...Object.keys(SETTINGS).filter((k) => k !== 'config'), 'streams'].sort())
  })

  test('loads as it is', () => {
    const config = loadConfig({ config: '/etc/ringcast/ringcast.json' }, {}, () => text)
    expect(config).toMatchObject({ port: 8080, logFormat: 'json', corsOrigin: ['https://app.example.com'], tlsCert: '/etc/ssl/certs/ringcast.pem' })
    expect(config.streams.map((s) => s.pattern)).toEqual(['tmp.**', 'audit.**'])
  })
})

describe('deploy/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana-dashboard.json'), 'utf8'))
  const exprs: string[] = dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr))

  test('every query is valid PromQL (promtool, with Grafana’s variables filled in)', async () => {
    expect(exprs.length).toBeGreaterThan(20)
    const rules = exprs.map((e, i) => `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'))}`)
    const file = join(dir, 'rules.yml')
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`)
    const { code, stdout } = await run(['promtool', 'check', 'rules', file])
    expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`)
    expect(code).toBe(0)
  })

  test('queries only metrics the server exports, and shows every one it exports', async () => {
    await using server = await startBinary({ args: ['--metrics-public'] })
    // Group and connection metrics appear once there is a group and a subscriber.
    await fetch(`${server.url}/v1/groups/g`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{"streams":["jobs.*"]}' })
    const sse = await RawSseClient.open(server.port, '/v1/events?stream=jobs.*')
    const text = await (await fetch(`${server.url}/metrics`)).text()
    sse.destroy()
    const exported = new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]))
    const used = new Set(exprs.flatMap((e) => e.match(/ringcast_[a-z_]+/g) ?? []).map((name) => name.replace(/_(bucket|sum|count)$/, '')))
    expect([...used].filter((name) => !exported.has(name))).toEqual([])
    expect([...exported].filter((name) => !used.has(name))).toEqual([])
  })
})
