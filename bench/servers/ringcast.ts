import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, type Server, waitReady } from './server.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const BINARY = join(ROOT, 'dist/ringcast')

/**
 * Builds dist/ringcast if it is missing (npm run build), then starts it on loopback with a temp data file,
 * or as a node named `node` on the shared log at `redis`; `args` are added to its command line.
 */
export async function startRingcast(opts: { fromSource: boolean; redis?: string; node?: string; args?: string[]; baseline?: string }): Promise<Server> {
  let cmd: string[]
  let description: string
  if (opts.baseline) {
    if (!existsSync(opts.baseline)) throw new Error(`--baseline ${opts.baseline}: no such file (build the earlier main with npm run build and give its dist/ringcast)`)
    cmd = [opts.baseline]
    description = `${opts.baseline} (the baseline binary)`
  } else if (opts.fromSource) {
    cmd = [process.execPath, join(ROOT, 'src/main.ts')]
    description = `bun ${Bun.version} src/main.ts (from source, not the compiled binary)`
  } else {
    if (!existsSync(BINARY)) {
      console.error('bench: dist/ringcast missing, running npm run build')
      const build = Bun.spawnSync(['npm', 'run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
      if (build.exitCode !== 0 || !existsSync(BINARY)) throw new Error('npm run build failed: cannot bench without dist/ringcast (or pass --source)')
    }
    cmd = [BINARY]
    description = `dist/ringcast (compiled, bun ${Bun.version})`
  }
  const dir = mkdtempSync(join(tmpdir(), 'ringcast-bench-'))
  const port = await freePort()
  const logPath = join(dir, 'server.log')
  const store = opts.redis ? ['--redis', opts.redis, '--node', opts.node ?? String(port)] : ['--data', join(dir, 'bench.db')]
  const proc = Bun.spawn([...cmd, 'serve', ...(opts.args ?? []), '--host', '127.0.0.1', '--port', String(port), ...store,
    // The bench opens thousands of connections from one address; the defaults are for real clients.
    '--max-connections', '100000', '--max-connections-per-client', '100000', '--metrics-public'], {
    cwd: dir, stdio: ['ignore', Bun.file(logPath), Bun.file(join(dir, 'server.err'))],
  })
  const log = () => {
    const read = (p: string) => { try { return readFileSync(p, 'utf8').slice(-1500) } catch { return '' } }
    return read(logPath) + read(join(dir, 'server.err'))
  }
  const base = `http://127.0.0.1:${port}`
  const who = opts.node ? `ringcast node ${opts.node}` : 'ringcast'
  try {
    await waitReady(`${base}/readyz`, 20_000, log, () => proc.exitCode !== null)
  } catch (err) {
    proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return {
    spec: { kind: 'ringcast', base, ...(opts.baseline && { label: 'baseline' }) },
    pid: proc.pid,
    description,
    async stop() {
      proc.kill('SIGTERM')
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(6000).then(() => false)])
      if (!exited) { console.error(`bench: ${who} did not exit within 6 s of SIGTERM; killing it`); proc.kill('SIGKILL') }
      const errors = log()
      if (/error|panic|uncaught/i.test(errors)) console.error(`bench: ${who} log tail:\n${errors}`)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
