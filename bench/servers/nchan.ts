import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, type Server, waitReady } from './server.ts'

const CONF = new URL('../peers/nchan.conf', import.meta.url).pathname
const MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so'

/** Starts Debian's nginx + nchan on loopback with bench/peers/nchan.conf in a temp dir. */
export async function startNchan(): Promise<Server> {
  if (!Bun.which('nginx') || !existsSync(MODULE)) {
    throw new Error('Nchan not installed: run `apt-get update && apt-get install -y nginx libnginx-mod-nchan` (as root)')
  }
  const dir = mkdtempSync(join(tmpdir(), 'ringcast-bench-nchan-'))
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d))
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, readFileSync(CONF, 'utf8').replaceAll('{{dir}}', dir).replaceAll('{{port}}', String(port)))
  const proc = Bun.spawn(['nginx', '-e', join(dir, 'error.log'), '-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  const log = () => { try { return readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000) } catch { return '' } }
  const base = `http://127.0.0.1:${port}`
  await waitReady(`${base}/readyz`, 10_000, log, () => proc.exitCode !== null)
  const version = (await Bun.$`nginx -v 2>&1`.nothrow().text()).trim()
  return {
    spec: { kind: 'nchan', base },
    pid: proc.pid,
    description: `${version} + libnginx-mod-nchan (Debian), 1 worker`,
    async stop() {
      proc.kill('SIGQUIT')
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)])
      if (!exited) proc.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
