#!/usr/bin/env node
// `npx ringcast …` with only Node: runs dist/ringcast when built, else the source with the bun from node_modules.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)

function command() {
  const binary = join(root, 'dist', 'ringcast')
  if (existsSync(binary)) return [binary, args]
  const source = join(root, 'src', 'main.ts')
  const bun = bunPath()
  if (bun && existsSync(source)) return [bun, [source, ...args]]
  return null
}

/** The bun binary of the npm package `bun`, wherever node_modules put it. */
function bunPath() {
  try {
    const manifest = createRequire(join(root, 'package.json')).resolve('bun/package.json')
    const bin = JSON.parse(readFileSync(manifest, 'utf8')).bin
    const path = join(dirname(manifest), typeof bin === 'string' ? bin : bin.bun)
    return existsSync(path) ? path : null
  } catch {
    return null
  }
}

const found = command()
if (!found) {
  process.stderr.write(`ringcast: neither ${join(root, 'dist', 'ringcast')} nor bun was found: run \`npm install\` (brings bun) or \`npm run build\` in ${root}\n`)
  process.exit(1)
}
const child = spawn(found[0], found[1], { stdio: 'inherit' })
// The server drains on these; pass them on and exit as the child does.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
child.on('error', (error) => {
  process.stderr.write(`ringcast: cannot run ${found[0]}: ${error.message}\n`)
  process.exit(1)
})
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)))
