import { freePort, type Server, waitReady } from './server.ts'

const SCRIPT = new URL('../peers/raw-bun.ts', import.meta.url).pathname

/** Starts bench/peers/raw-bun.ts (the raw Bun.serve reference) on loopback, under the bench's own bun. */
export async function startRawBun(): Promise<Server> {
  const port = await freePort()
  const proc = Bun.spawn([process.execPath, SCRIPT, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let errors = ''
  void new Response(proc.stderr).text().then((t) => (errors = t))
  const base = `http://127.0.0.1:${port}`
  await waitReady(`${base}/readyz`, 10_000, () => errors, () => proc.exitCode !== null)
  return {
    spec: { kind: 'raw-bun', base },
    pid: proc.pid,
    description: `raw Bun.serve reference (bench/peers/raw-bun.ts: in-memory rings, no durability), bun ${Bun.version}`,
    async stop() {
      proc.kill('SIGTERM')
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)])
      if (!exited) proc.kill('SIGKILL')
    },
  }
}
