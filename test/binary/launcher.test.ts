import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Child, requireBinary, tempDir } from '../helpers/binary'

const ROOT = resolve(import.meta.dir, '../..')
const LAUNCHER = join(ROOT, 'bin/ringcast.js')

/** Runs a command with Node on PATH as a user's shell would have it; resolves with its exit code and output. */
async function run(cmd: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Child(Bun.spawn(cmd, { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  const code = await child.exit(30_000)
  return { code, stdout: child.stdout, stderr: child.stderr }
}

beforeAll(() => {
  requireBinary()
})

describe('the npx launcher (bin/ringcast.js, run by Node)', () => {
  let dir: string
  beforeAll(() => {
    dir = tempDir('ringcast-launcher-')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('`npx ringcast` in the repository runs the built binary', async () => {
    const { code, stdout } = await run(['npx', '--no-install', 'ringcast', 'help', 'token'], ROOT)
    expect(code).toBe(0)
    expect(stdout).toStartWith('Usage: ringcast token')
  })

  test('without dist/ringcast, it runs the source with the bun from node_modules', async () => {
    const copy = join(dir, 'unbuilt')
    mkdirSync(join(copy, 'bin'), { recursive: true })
    copyFileSync(LAUNCHER, join(copy, 'bin/ringcast.js'))
    copyFileSync(join(ROOT, 'package.json'), join(copy, 'package.json'))
    symlinkSync(join(ROOT, 'src'), join(copy, 'src'))
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'))
    const { code, stdout, stderr } = await run(['node', join(copy, 'bin/ringcast.js'), 'publish', '--bogus'], copy)
    expect(stdout).toBe('')
    expect(stderr).toBe('ringcast: unknown flag --bogus for ringcast publish (see ringcast help publish)\n')
    expect(code).toBe(2)
  })

  test('with neither, one line says what to run', async () => {
    const bare = join(dir, 'bare')
    mkdirSync(join(bare, 'bin'), { recursive: true })
    copyFileSync(LAUNCHER, join(bare, 'bin/ringcast.js'))
    writeFileSync(join(bare, 'package.json'), '{"type":"module"}')
    const { code, stderr } = await run(['node', join(bare, 'bin/ringcast.js'), '--version'], bare)
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain('npm install')
  })

  test('passes SIGTERM on: the server drains, logs stopped and exits 0', async () => {
    const child = new Child(Bun.spawn(['node', LAUNCHER, 'serve', '--port', '0', '--data', ':memory:'], { cwd: dir, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
    try {
      await child.waitFor(/ringcast listening/)
      child.kill('SIGTERM')
      expect(await child.exit()).toBe(0)
      expect(child.stderr).toContain('INFO  stopped')
    } finally {
      // SIGTERM first: it reaches the server through the launcher, which a SIGKILL would orphan.
      child.kill('SIGTERM')
      await child.exit().catch(() => undefined)
      await child.dispose()
    }
  })
})
