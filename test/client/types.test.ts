import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tempDir } from '../helpers/binary'

/**
 * dist/client's declarations as a user gets them: self-contained (no TypeBox, no DOM or Node types
 * needed), usable from an installed `ringcast/client`, and the same types the server's schemas give.
 */

const ROOT = resolve(import.meta.dir, '../..')
const DIST = join(ROOT, 'dist/client')
let dir: string

beforeAll(() => {
  if (!existsSync(join(DIST, 'index.d.ts'))) throw new Error('dist/client/index.d.ts is missing: run `npm run build` first')
  dir = tempDir('ringcast-types-')
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(ROOT, join(dir, 'node_modules/ringcast'))
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Type-checks `files` in `dir` with these compiler options; returns tsc's output (empty when clean). */
function typecheck(name: string, files: Record<string, string>, options: object): string {
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  const base = { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', types: [], skipLibCheck: false }
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ compilerOptions: { ...base, ...options }, files: Object.keys(files) }))
  const tsc = Bun.spawnSync([join(ROOT, 'node_modules/.bin/tsc'), '-p', `${name}.json`], { cwd: dir })
  return tsc.stdout.toString() + tsc.stderr.toString()
}

test('the declarations import nothing from outside dist/client', () => {
  for (const file of readdirSync(DIST).filter((f) => f.endsWith('.d.ts'))) {
    const imports = [...readFileSync(join(DIST, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1])
    expect(imports.filter((i) => !i.startsWith('./'))).toEqual([])
  }
})

const USE = `
import { Ringcast, RingcastError, type Envelope, type Gap, type StoredEvent, type Subscription, type Worker } from 'ringcast/client'
export async function use(rc: Ringcast): Promise<void> {
  const sub: Subscription = rc.subscribe({ streams: ['jobs.*'], types: ['done'], after: 0 })
  sub.on('gap', (gap: Gap) => gap.firstId.toFixed())
  sub.on('state', (state) => state === 'reconnecting')
  for await (const event of sub) {
    const e: Envelope = event
    e.stream.toUpperCase()
    if (sub.lastId !== undefined) sub.lastId.toFixed()
  }
  const one: StoredEvent = await rc.publish('jobs.1', { type: 'done', data: { ok: true }, key: 'k1' })
  const many: StoredEvent[] = await rc.publish('jobs.1', [{ data: 1 }, { data: 2, terminal: true }])
  one.duplicate === true && many.length
  const worker: Worker = rc.worker('jobs', async (event, delivery) => event.id + delivery.attempt, { concurrency: 4, transport: 'ws' })
  worker.on('error', (error) => error instanceof RingcastError && error.code)
  await worker.stop()
  for (const s of await rc.streams('jobs.*')) s.lastId === null || s.lastId.toFixed()
  ;(await rc.group('jobs')).consumers.map((c) => c.consumer)
  await rc.putGroup('jobs', { streams: ['jobs.*'], start: 'earliest', ordering: 'stream' })
  // @ts-expect-error an event needs data
  await rc.publish('jobs.1', { type: 'done' })
  // @ts-expect-error streams, not stream
  rc.subscribe({ stream: 'jobs.*' })
}
`

test('a user with only ES types compiles against ringcast/client', () => {
  expect(typecheck('plain', { 'plain.ts': `${USE}\nexport const rc = new Ringcast({ url: 'http://localhost:8080', token: async () => 'jwt' })\n` }, { lib: ['es2022'] })).toBe('')
})

test('a browser user passes the DOM WebSocket class', () => {
  const page = `${USE}\nexport const rc = new Ringcast({ url: '/', transport: 'ws', WebSocket })\n`
  expect(typecheck('dom', { 'page.ts': page }, { lib: ['es2022', 'dom'] })).toBe('')
})

test('the printed wire types are the types the server schemas give', () => {
  const names = [...readFileSync(join(ROOT, 'src/client/types.ts'), 'utf8').matchAll(/^export type (\w+) =/gm)].map((m) => m[1])
  const printed = [...readFileSync(join(DIST, 'types.d.ts'), 'utf8').matchAll(/^export type (\w+) =/gm)].map((m) => m[1])
  expect(printed).toEqual(names)
  const same = names.map((n) => `  Same<P.${n}, S.${n}>,`).join('\n')
  const drift = `import type * as P from '${DIST}/types'
import type * as S from '${ROOT}/src/client/types'
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
export const same: [\n${same}\n] = [${names.map(() => 'true').join(', ')}]
`
  // The schemas' own files need Bun's and the DOM's types, and are checked by npm run typecheck.
  expect(typecheck('drift', { 'drift.ts': drift }, { lib: ['esnext', 'dom'], skipLibCheck: true, typeRoots: [join(ROOT, 'node_modules/@types')], types: ['bun'] })).toBe('')
})
