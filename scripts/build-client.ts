import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Kind, OptionalKind, TransformKind, type TSchema } from '@sinclair/typebox'
import { ClaimResult, GroupBody, GroupInfo, Settled } from '../src/http/group-schemas'
import { ConnectionInfo, PollPage, StoredEvent, StreamInfo } from '../src/http/schemas'
import { Envelope, PublishItem } from '../src/transports/wire'

/**
 * Builds dist/client: index.js (one dependency-free ESM file for browsers, Bun and Node) and its
 * declarations, whose wire types are printed from the server's schemas so users need no TypeBox.
 * Fails past the size budget, and prints the gzipped size.
 */

const ROOT = resolve(import.meta.dir, '..')
const OUT = join(ROOT, 'dist/client')
const MAX_GZIP_BYTES = 12 * 1024

/** The exports of src/client/types.ts, from the same schemas (test/client/types.test.ts checks they agree). */
const WIRE_TYPES: Record<string, TSchema> = {
  Envelope,
  PublishItem,
  StoredEvent,
  Gap: PollPage.properties.gap,
  Reset: PollPage.properties.reset,
  StreamInfo,
  ConnectionInfo,
  GroupInfo,
  GroupConfig: GroupBody,
  Delivery: ClaimResult.properties.deliveries.items,
  Settled,
}
const NAMES = new Map(Object.entries(WIRE_TYPES).map(([name, schema]) => [schema, name]))

rmSync(OUT, { recursive: true, force: true })
const result = await Bun.build({ entrypoints: [join(ROOT, 'src/client/index.ts')], outdir: OUT, target: 'browser', format: 'esm', minify: true, naming: 'index.js' })
if (!result.success) fail(result.logs.join('\n'))
const js = readFileSync(join(OUT, 'index.js'))
// Nothing may be left to resolve at run time: the file is the whole library.
if (/(^|[;}])\s*import\s*[{*"'\w]|\brequire\(/.test(js.toString())) fail('dist/client/index.js imports something: the client must not depend on anything')
declarations()
const gzipped = Bun.gzipSync(js, { level: 9 }).byteLength
console.log(`dist/client/index.js: ${kb(js.byteLength)} KB, ${kb(gzipped)} KB gzipped (budget ${kb(MAX_GZIP_BYTES)} KB)`)
if (gzipped > MAX_GZIP_BYTES) fail(`the client is ${gzipped} bytes gzipped, over its budget of ${MAX_GZIP_BYTES}`)

/** tsc emits the client's declarations; types.d.ts is replaced by the wire types printed from the schemas. */
function declarations(): void {
  const temp = mkdtempSync(join(tmpdir(), 'ringcast-dts-'))
  try {
    const tsc = Bun.spawnSync([join(ROOT, 'node_modules/.bin/tsc'), '--ignoreConfig', join(ROOT, 'src/client/index.ts'), '--declaration', '--emitDeclarationOnly', '--noCheck', '--stripInternal', '--outDir', temp, '--rootDir', join(ROOT, 'src'), '--target', 'esnext', '--module', 'esnext', '--moduleResolution', 'bundler', '--types', 'bun', '--strict', '--skipLibCheck'], { cwd: ROOT })
    // The server's schema files cannot have declarations of their own; only the client's matter (types.d.ts is printed).
    const problems = tsc.stdout.toString().split('\n').filter((line) => line.startsWith('src/client/'))
    if (problems.length > 0) fail(`declarations:\n${problems.join('\n')}`)
    // Only what index.d.ts reaches: the transports' internals stay out of the package.
    const reached = new Set(['index'])
    for (const name of reached) {
      if (name === 'types') continue
      const text = readFileSync(join(temp, 'client', `${name}.d.ts`), 'utf8')
      for (const [, next] of text.matchAll(/from '\.\/([\w-]+)'/g)) reached.add(next)
      writeFileSync(join(OUT, `${name}.d.ts`), text)
    }
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
  // Each type keeps the doc comment it has in src/client/types.ts.
  const source = readFileSync(join(ROOT, 'src/client/types.ts'), 'utf8')
  const docs = new Map([...source.matchAll(/^(\/\*\*.*\*\/)\nexport type (\w+) =/gm)].map(([, doc, name]) => [name, `${doc}\n`]))
  const types = Object.entries(WIRE_TYPES).map(([name, schema]) => `${docs.get(name) ?? ''}export type ${name} = ${body(schema, '')}\n`)
  writeFileSync(join(OUT, 'types.d.ts'), `// Printed by scripts/build-client.ts from the schemas the server validates with.\n${types.join('')}`)
}

/** A schema inside another: by name when it is one of the wire types. */
function print(schema: TSchema, indent: string): string {
  return NAMES.get(schema) ?? body(schema, indent)
}

/** A TypeBox schema as a TypeScript type, for the kinds the wire schemas use. */
function body(schema: TSchema, indent: string): string {
  // Elysia's t.Integer decodes a string or an integer, and is typed as the integer it decodes to.
  if (TransformKind in schema) {
    const decoded = (schema.anyOf as TSchema[] | undefined)?.find((s) => s[Kind] === 'Integer')
    return decoded ? print(decoded, indent) : fail('no TypeScript printer for this transform')
  }
  switch (schema[Kind]) {
    case 'Object': {
      const inner = `${indent}  `
      const props = Object.entries(schema.properties as Record<string, TSchema>).map(([key, value]) => {
        const doc = value.description ? `${inner}/** ${value.description} */\n` : ''
        return `${doc}${inner}${key}${value[OptionalKind] ? '?' : ''}: ${print(value, inner)}\n`
      })
      return `{\n${props.join('')}${indent}}`
    }
    case 'Array': {
      const item = print(schema.items, indent)
      return schema.items[Kind] === 'Union' ? `(${item})[]` : `${item}[]`
    }
    case 'Union':
      return (schema.anyOf as TSchema[]).map((s) => print(s, indent)).join(' | ')
    case 'Literal':
      return JSON.stringify(schema.const)
    case 'String':
      return 'string'
    case 'Integer':
    case 'Number':
      return 'number'
    case 'Boolean':
      return 'boolean'
    case 'Null':
      return 'null'
    case 'Any':
      return 'any'
    default:
      return fail(`no TypeScript printer for TypeBox kind ${String(schema[Kind])}`)
  }
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1)
}

function fail(message: string): never {
  console.error(`build-client: ${message}`)
  process.exit(1)
}
