import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { envNameOf, flagOf, loadConfig, nameOfFlag, SETTINGS } from '../src/config'
import { Logger } from '../src/logger'
import { startServer } from '../src/server'
import { configError } from './helpers/config-error'

type Env = Record<string, string | undefined>
const noFile = (path: string): string => {
  throw new Error(`ENOENT: no such file ${path}`)
}
const fileOf = (contents: unknown) => (path: string) => {
  if (path !== '/etc/ringcast.json') throw new Error(`ENOENT: ${path}`)
  return typeof contents === 'string' ? contents : JSON.stringify(contents)
}

describe('defaults', () => {
  test('with nothing given, every setting has its documented default', () => {
    const c = loadConfig({}, {}, noFile)
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      data: './data/ringcast.db',
      ringSize: 1024,
      heartbeat: 15,
      retentionEvents: 10_000,
      retentionAge: 604_800,
      dedupWindow: 86_400,
      durability: 'normal',
      maxPayload: 1024 * 1024,
      maxBatch: 1000,
      publishRate: 0,
      bufferLimit: 1024 * 1024,
      corsOrigin: [],
      logLevel: 'info',
      hostGiven: false,
      streams: [],
    })
    expect(c.config).toBeUndefined()
  })

  test('names map between flag, env and key', () => {
    expect(flagOf('maxPayload')).toBe('--max-payload')
    expect(envNameOf('maxPayload')).toBe('RINGCAST_MAX_PAYLOAD')
    expect(nameOfFlag('max-connections-per-client')).toBe('maxConnectionsPerClient')
    expect(nameOfFlag('nope')).toBeUndefined()
    for (const name of Object.keys(SETTINGS)) expect(nameOfFlag(flagOf(name).slice(2))).toBe(name as never)
  })
})

describe('precedence: flags > env > config file > defaults', () => {
  const file = { port: 1001, heartbeat: 31, durability: 'full', ringSize: 7 }
  const rows: [string, Record<string, string>, Env, number][] = [
    ['default only', {}, {}, 8080],
    ['file over default', { config: '/etc/ringcast.json' }, {}, 1001],
    ['env over file', { config: '/etc/ringcast.json' }, { RINGCAST_PORT: '1002' }, 1002],
    ['flag over env and file', { config: '/etc/ringcast.json', port: '1003' }, { RINGCAST_PORT: '1002' }, 1003],
    ['flag over env', { port: '1003' }, { RINGCAST_PORT: '1002' }, 1003],
    ['empty env is ignored', { config: '/etc/ringcast.json' }, { RINGCAST_PORT: '' }, 1001],
  ]
  test.each(rows)('%s', (_, flags, env, port) => {
    expect(loadConfig(flags, env, fileOf(file)).port).toBe(port)
  })

  test('each setting resolves on its own: some from each source', () => {
    const c = loadConfig({ heartbeat: '45' }, { RINGCAST_CONFIG: '/etc/ringcast.json', RINGCAST_DURABILITY: 'normal' }, fileOf(file))
    expect(c).toMatchObject({ heartbeat: 45, durability: 'normal', ringSize: 7, port: 1001, retentionEvents: 10_000 })
  })

  test('--config wins over RINGCAST_CONFIG', () => {
    const read = (path: string) => (path === '/a.json' ? '{"port": 1111}' : '{"port": 2222}')
    expect(loadConfig({ config: '/a.json' }, { RINGCAST_CONFIG: '/b.json' }, read).port).toBe(1111)
    expect(loadConfig({}, { RINGCAST_CONFIG: '/b.json' }, read).port).toBe(2222)
  })

  test('text values are converted: integers, lists, enums; hostGiven says whether a host was given', () => {
    const c = loadConfig({ 'cors-origin': 'https://a.example, https://b.example', host: '0.0.0.0' }, { RINGCAST_MAX_BATCH: '50', RINGCAST_LOG_LEVEL: 'debug' }, noFile)
    expect(c.corsOrigin).toEqual(['https://a.example', 'https://b.example'])
    expect(c.maxBatch).toBe(50)
    expect(c.logLevel).toBe('debug')
    expect(c.hostGiven).toBe(true)
    expect(loadConfig({}, { RINGCAST_HOST: '::1' }, noFile).hostGiven).toBe(true)
  })
})

describe('bad values stop start-up with one line naming the setting', () => {
  const cfg = { config: '/etc/ringcast.json' }
  const rows: [string, Record<string, string>, Env, unknown, string[]][] = [
    ['port not a number (flag)', { port: 'abc' }, {}, {}, ['--port abc', 'integer']],
    ['port too large (flag)', { port: '70000' }, {}, {}, ['--port 70000', '65535']],
    ['port negative (flag)', { port: '-1' }, {}, {}, ['--port -1']],
    ['port fractional (flag)', { port: '80.5' }, {}, {}, ['--port 80.5']],
    ['port not a number (env)', {}, { RINGCAST_PORT: 'http' }, {}, ['RINGCAST_PORT=http']],
    ['port a string (file)', cfg, {}, { port: '8081' }, ['"port"', '/etc/ringcast.json']],
    ['port too large (file)', cfg, {}, { port: 65536 }, ['"port"']],
    ['ring size 0', { 'ring-size': '0' }, {}, {}, ['--ring-size 0']],
    ['heartbeat above 300', { heartbeat: '301' }, {}, {}, ['--heartbeat 301', '300']],
    ['heartbeat 0 (env)', {}, { RINGCAST_HEARTBEAT: '0' }, {}, ['RINGCAST_HEARTBEAT=0']],
    ['retention events 0', { 'retention-events': '0' }, {}, {}, ['--retention-events 0']],
    ['retention age not a number', { 'retention-age': '7d' }, {}, {}, ['--retention-age 7d']],
    ['dedup window negative', { 'dedup-window': '-5' }, {}, {}, ['--dedup-window -5']],
    ['durability unknown', { durability: 'extra' }, {}, {}, ['--durability extra', 'normal, full']],
    ['durability unknown (file)', cfg, {}, { durability: 'fsync' }, ['"durability"']],
    ['max payload 0', { 'max-payload': '0' }, {}, {}, ['--max-payload 0']],
    ['max batch too large', { 'max-batch': '100001' }, {}, {}, ['--max-batch 100001']],
    ['max connections 0 (env)', {}, { RINGCAST_MAX_CONNECTIONS: '0' }, {}, ['RINGCAST_MAX_CONNECTIONS=0']],
    ['max connections per client 0', { 'max-connections-per-client': '0' }, {}, {}, ['--max-connections-per-client 0']],
    ['publish rate negative', { 'publish-rate': '-1' }, {}, {}, ['--publish-rate -1']],
    ['buffer limit below 1 KiB', { 'buffer-limit': '100' }, {}, {}, ['--buffer-limit 100', '1024']],
    ['log level unknown', { 'log-level': 'verbose' }, {}, {}, ['--log-level verbose', 'debug']],
    ['log level unknown (env)', {}, { RINGCAST_LOG_LEVEL: 'trace' }, {}, ['RINGCAST_LOG_LEVEL=trace']],
    ['host empty (file)', cfg, {}, { host: '' }, ['"host"']],
    ['cors origin not a list (file)', cfg, {}, { corsOrigin: 'https://a.example' }, ['"corsOrigin"']],
    ['unknown flag', { prot: '8080' }, {}, {}, ['--prot']],
    ['unknown file key', cfg, {}, { prot: 8080 }, ['"prot"', '/etc/ringcast.json']],
    ['config file is not JSON', cfg, {}, '{port: 1', ['/etc/ringcast.json', 'not valid JSON']],
    ['config file is an array', cfg, {}, [1], ['/etc/ringcast.json', 'JSON object']],
    ['config file cannot be read', { config: '/missing.json' }, {}, {}, ['/missing.json', 'cannot read']],
  ]
  test.each(rows)('%s', (_, flags, env, file, mentions) => {
    const error = configError(() => loadConfig(flags, env, fileOf(file)))
    for (const m of mentions) expect(error.message).toContain(m)
    expect(error.message).not.toContain('\n')
  })

  test('a bad flag is reported even when env and file give a good value', () => {
    const error = configError(() => loadConfig({ port: 'x', config: '/etc/ringcast.json' }, { RINGCAST_PORT: '1' }, fileOf({ port: 2 })))
    expect(error.message).toContain('--port x')
  })
})

describe('config file stream defaults', () => {
  const cfg = { config: '/etc/ringcast.json' }
  test('valid entries come through as given', () => {
    const streams = [
      { pattern: 'tmp.**', ephemeral: true, ringSize: 64 },
      { pattern: 'jobs.*', maxEvents: 100, maxAgeSeconds: 3600 },
      { pattern: 'audit' },
    ]
    expect(loadConfig(cfg, {}, fileOf({ streams })).streams).toEqual(streams)
  })

  const bad: [string, unknown, string[]][] = [
    ['not an array', { pattern: 'a' }, ['"streams" must be an array']],
    ['missing pattern', [{ ephemeral: true }], ['streams[0]', 'pattern']],
    ['bad pattern', [{ pattern: 'a' }, { pattern: 'a.**.b' }], ['streams[1].pattern', 'last token']],
    ['empty pattern', [{ pattern: '' }], ['streams[0]']],
    ['ephemeral not a boolean', [{ pattern: 'a.*', ephemeral: 'yes' }], ['streams[0]/ephemeral']],
    ['ring size 0', [{ pattern: 'a.*', ringSize: 0 }], ['streams[0]/ringSize']],
    ['max events not an integer', [{ pattern: 'a.*', maxEvents: 1.5 }], ['streams[0]/maxEvents']],
    ['unknown key', [{ pattern: 'a.*', ttl: 5 }], ['streams[0]']],
  ]
  test.each(bad)('%s is refused', (_, streams, mentions) => {
    const error = configError(() => loadConfig(cfg, {}, fileOf({ streams })))
    expect(error.message).toContain('/etc/ringcast.json')
    for (const m of mentions) expect(error.message).toContain(m)
  })

  describe('applied by a running server', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringcast-config-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    test('streams matching an ephemeral pattern are ephemeral with its ring size; others are not', async () => {
      const config = loadConfig(
        { config: '/etc/ringcast.json', port: '0', data: join(dir, 'ringcast.db') },
        {},
        fileOf({ logLevel: 'error', streams: [{ pattern: 'tmp.**', ephemeral: true, ringSize: 4, maxEvents: 50 }, { pattern: 'jobs.*', maxEvents: 7 }] }),
      )
      const server = await startServer(config, new Logger('error'))
      try {
        for (const stream of ['tmp.a.b', 'jobs.1', 'other']) {
          const res = await fetch(`${server.url}/v1/streams/${stream}/events`, { method: 'POST', body: '{"data":1}', headers: { 'Content-Type': 'application/json' } })
          expect(res.status).toBe(201)
        }
        const info = async (s: string) => (await fetch(`${server.url}/v1/streams/${s}`)).json()
        expect(await info('tmp.a.b')).toMatchObject({ ephemeral: true, ringSize: 4, maxEvents: 50 })
        expect(await info('jobs.1')).toMatchObject({ ephemeral: false, ringSize: 1024, maxEvents: 7 })
        expect(await info('other')).toMatchObject({ ephemeral: false, ringSize: 1024, maxEvents: 10_000 })
      } finally {
        await server.stop()
      }
    })
  })
})
