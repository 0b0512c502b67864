import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, type Server, waitReady } from './server.ts'

const SCRIPT = new URL('../peers/raw-bun.ts', import.meta.url).pathname

/**
 * Starts bench/peers/raw-bun.ts (the raw Bun.serve reference) on loopback, under the bench's own bun;
 * `isDurable`: the target raw-bun-durable, committing each publish to SQLite in a temp dir first.
 */
export async function startRawBun(isDurable = false): Promise<Server> {
  const port = await freePort()
  const dir = isDurable ? mkdtempSync(join(tmpdir(), 'ringcast-bench-raw-')) : null
  const proc = Bun.spawn([process.execPath, SCRIPT, String(port), ...(dir ? ['--durable', join(dir, 'raw.db')] : [])], { stdio: ['ignore', 'ignore', 'pipe'] })
  let errors = ''
  void new Response(proc.stderr).text().then((t) => (errors = t))
  const base = `http://127.0.0.1:${port}`
  const removeDir = () => dir && rmSync(dir, { recursive: true, force: true })
  try {
    await waitReady(`${base}/readyz`, 10_000, () => errors, () => proc.exitCode !== null)
  } catch (err) {
    proc.kill('SIGKILL')
    removeDir()
    throw err
  }
  return {
    spec: { kind: 'raw-bun', base, ...(isDurable && { label: 'raw-bun-durable' }) },
    pid: proc.pid,
    description: isDurable
      ? `raw Bun.serve reference with durable acks (bench/peers/raw-bun.ts --durable: each publish one SQLite transaction, as ringcast commits), bun ${Bun.version}`
      : `raw Bun.serve reference (bench/peers/raw-bun.ts: in-memory rings, no durability), bun ${Bun.version}`,
    async stop() {
      proc.kill('SIGTERM')
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)])
      if (!exited) proc.kill('SIGKILL')
      removeDir()
    },
  }
}
