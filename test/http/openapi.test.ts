import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import { type BinaryServer, startBinary, tempDir } from '../helpers/binary'

/**
 * /docs/json of the compiled binary is what others generate clients from: it must pass both
 * swagger-parser and `redocly lint` with zero errors, and still describe the WebSocket protocol.
 */

const REDOCLY = resolve(import.meta.dir, '../../node_modules/.bin/redocly')

let server: BinaryServer | undefined
let dir: string
let document: any

beforeAll(async () => {
  dir = tempDir('ringcast-openapi-')
  server = await startBinary({ dataFile: ':memory:' })
  const res = await fetch(`${server.url}/docs/json`)
  expect(res.status).toBe(200)
  document = await res.json()
})

afterAll(async () => {
  await server?.dispose()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('swagger-parser validates the document', async () => {
  // validate() dereferences in place: give it a copy.
  await SwaggerParser.validate(structuredClone(document))
})

test('redocly lint: no errors, and every operation but the probes and the upgrade has a 4xx', async () => {
  const file = join(dir, 'openapi.json')
  writeFileSync(file, JSON.stringify(document))
  const proc = Bun.spawn([REDOCLY, 'lint', file, '--format=json'], {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  const report = JSON.parse(out.slice(out.indexOf('{'))) as { problems: { ruleId: string; severity: string; location: { pointer: string }[] }[] }
  const found = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}`)
  expect(found.filter((p) => p.startsWith('error')), err).toEqual([])
  expect(code).toBe(0)
  // Liveness and readiness never answer 4xx; the upgrade answers 101, which is not a 2xx.
  const allowed = ['warn operation-4xx-response #/paths/~1healthz/get/responses', 'warn operation-4xx-response #/paths/~1readyz/get/responses', 'warn operation-2xx-response #/paths/~1v1~1ws/get/responses']
  expect(found.filter((p) => p.includes('operation-') && !allowed.includes(p))).toEqual([])
}, 60_000)

test('the WebSocket protocol is documented as a GET answered 101', () => {
  const ws = document.paths['/v1/ws']
  expect(Object.keys(ws)).toEqual(['get'])
  expect(Object.keys(ws.get.responses)).toContain('101')
  expect(ws.get.description).toContain('"op":"subscribe"')
  expect(ws.get['x-websocket'].closeCodes['4001']).toContain('token expired')
  expect(document.servers.length).toBeGreaterThan(0)
})
