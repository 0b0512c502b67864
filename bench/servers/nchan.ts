import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { childrenOf } from './probe.ts'
import { freePort, type Server, waitReady } from './server.ts'

const CONF = new URL('../peers/nchan.conf', import.meta.url).pathname
const MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so'

// Nchan's error log calls these two discouraged in favour of an upstream with nchan_redis_server and
// nchan_redis_pass, but that form set at the http level left each instance on its own memory store here.
const redisConf = (url: string) => `nchan_redis_url "${url}";
  nchan_use_redis on;
  nchan_redis_storage_mode distributed;`

/** Starts Debian's nginx + nchan on loopback with bench/peers/nchan.conf in a temp dir; with `redis`, in Nchan's Redis mode on it. */
export async function startNchan(opts: { redis?: string } = {}): Promise<Server> {
  if (!Bun.which('nginx') || !existsSync(MODULE)) {
    throw new Error('Nchan not installed: run `apt-get update && apt-get install -y nginx libnginx-mod-nchan` (as root)')
  }
  const dir = mkdtempSync(join(tmpdir(), 'ringcast-bench-nchan-'))
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d))
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, readFileSync(CONF, 'utf8').replaceAll('{{dir}}', dir).replaceAll('{{port}}', String(port)).replace('{{redis}}', opts.redis ? redisConf(opts.redis) : ''))
  const proc = Bun.spawn(['nginx', '-e', join(dir, 'error.log'), '-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  const log = () => { try { return readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000) } catch { return '' } }
  const base = `http://127.0.0.1:${port}`
  const exits = (ms: number) => Promise.race([proc.exited.then(() => true), Bun.sleep(ms).then(() => false)])
  const stop = async () => {
    // Graceful, then fast shutdown; a SIGKILLed master would leave its worker running, so that goes too.
    proc.kill('SIGQUIT')
    if (!(await exits(3000))) proc.kill('SIGTERM')
    if (!(await exits(2000))) for (const pid of [...childrenOf(proc.pid), proc.pid]) process.kill(pid, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitReady(`${base}/readyz`, 10_000, log, () => proc.exitCode !== null)
    // In Redis mode Nchan connects to Redis after it listens: ready once a publish is stored.
    if (opts.redis) await waitReady(`${base}/pub/bench.ready`, 10_000, log, () => proc.exitCode !== null, 'POST')
  } catch (err) {
    await stop()
    throw err
  }
  const version = (await Bun.$`nginx -v 2>&1`.nothrow().text()).trim()
  return {
    spec: { kind: 'nchan', base },
    pid: proc.pid,
    description: `${version} + libnginx-mod-nchan (Debian), 1 worker${opts.redis ? ', Redis mode' : ''}`,
    stop,
  }
}
