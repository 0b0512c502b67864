import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { freePort } from './binary'

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync) ?? 'redis-server'

/** A real redis-server (Debian's) on a loopback port, with its own temp dir and AOF on, started by the test. */
export class TestRedis {
  private proc: Subprocess | undefined
  readonly dir = mkdtempSync(join(tmpdir(), 'ringcast-redis-'))

  private constructor(readonly port: number) {}

  /** Starts it and resolves once it answers PING. */
  static async start(options: { appendfsync?: 'always' | 'everysec' } = {}): Promise<TestRedis> {
    const redis = new TestRedis(await freePort())
    await redis.launch(options.appendfsync ?? 'always')
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** SIGKILLs it (nothing flushed beyond what AOF already wrote). */
  async kill(): Promise<void> {
    this.proc?.kill('SIGKILL')
    await this.proc?.exited
    this.proc = undefined
  }

  /** Starts it again on the same port and directory: with AOF, what was acknowledged is back. */
  async restart(options: { wipe?: boolean } = {}): Promise<void> {
    await this.kill()
    if (options.wipe) {
      rmSync(this.dir, { recursive: true, force: true })
      mkdirSync(this.dir, { recursive: true })
    }
    await this.launch('always')
  }

  /** Runs one command through redis-cli; its output, trimmed. */
  async cli(...args: string[]): Promise<string> {
    const proc = Bun.spawn(['redis-cli', '-p', String(this.port), ...args], { stdout: 'pipe', stderr: 'pipe' })
    const out = await new Response(proc.stdout).text()
    await proc.exited
    return out.trim()
  }

  async stop(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }

  private async launch(appendfsync: string): Promise<void> {
    this.proc = Bun.spawn([REDIS_SERVER, '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', appendfsync, '--save', '', '--maxmemory-policy', 'noeviction'], {
      stdout: 'ignore',
      stderr: 'pipe',
    })
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if ((await this.cli('PING').catch(() => '')) === 'PONG') return
      await Bun.sleep(20)
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`)
  }
}
