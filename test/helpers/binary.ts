import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { Wakeup } from './wakeup'

/** The compiled binary the tests run (built by `npm run build`). */
export const BINARY = resolve(import.meta.dir, '../../dist/ringcast')

/** Throws a clear message when the binary has not been built. Call it in beforeAll. */
export function requireBinary(): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` (or \`npm test\`, which builds first) before the binary tests`)
  return BINARY
}

/** A fresh temp directory; remove it with `rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(prefix = 'ringcast-bin-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** A TCP port that was free a moment ago (bound on port 0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

export interface RunResult {
  code: number | null
  signal: string | number | null
  stdout: string
  stderr: string
}

/** Runs the binary to completion (killed past `timeoutMs`). */
export async function runBinary(args: string[], options: { env?: Record<string, string>; cwd?: string; stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  requireBinary()
  const proc = Bun.spawn([BINARY, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: { ...cleanEnv(), ...options.env },
    stdin: options.stdin === undefined ? 'ignore' : new Blob([options.stdin]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 10_000)
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return { code, signal: proc.signalCode, stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}

/** The environment without any RINGCAST_* variable of the caller's. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('RINGCAST_')) env[k] = v
  return env
}

/**
 * A child process that keeps its stderr text (drained continuously, so the pipe never fills) and
 * lets a test wait for a line in it.
 */
export class Child {
  stderr = ''
  stdout = ''
  readonly exited: Promise<number>
  exitedAt: number | undefined
  private readonly wakeup = new Wakeup()
  private readonly drained: Promise<void>

  constructor(readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>) {
    this.drained = Promise.all([this.drain(proc.stdout, 'stdout'), this.drain(proc.stderr, 'stderr')]).then(() => undefined)
    this.exited = proc.exited.then((code) => {
      this.exitedAt = performance.now()
      this.wakeup.wake()
      return code
    })
  }

  get pid(): number {
    return this.proc.pid
  }

  get isRunning(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null
  }

  /** Waits until `pattern` matches the text of `stream` (or the process exits, or the deadline passes). */
  async waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stderr', timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(this[stream])
      if (match) return match
      if (this.exitedAt !== undefined) {
        await this.drained
        const late = pattern.exec(this[stream])
        if (late) return late
        throw new Error(`process exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${pattern} appeared on ${stream}; stderr:\n${this.stderr}`)
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${pattern} did not appear on ${stream} within ${timeoutMs} ms; stderr:\n${this.stderr}`)
      await this.wakeup.until(left)
    }
  }

  /** Waits for exit and returns the exit code; SIGKILLs and throws past the deadline. */
  async exit(timeoutMs = 10_000): Promise<number> {
    let timer: Timer | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.proc.kill('SIGKILL')
        reject(new Error(`process ${this.pid} did not exit within ${timeoutMs} ms; stderr:\n${this.stderr}`))
      }, timeoutMs)
    })
    try {
      const code = await Promise.race([this.exited, timeout])
      await this.drained
      return code
    } finally {
      clearTimeout(timer)
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.isRunning) this.proc.kill(signal)
  }

  /** Makes sure the process is gone (SIGKILL if still running). */
  async dispose(): Promise<void> {
    this.kill('SIGKILL')
    await this.exited
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose()
  }

  private async drain(stream: ReadableStream<Uint8Array>, into: 'stdout' | 'stderr'): Promise<void> {
    const decoder = new TextDecoder()
    try {
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
        this[into] += decoder.decode(chunk, { stream: true })
        this.wakeup.wake()
      }
    } catch {
      // The pipe closed with the process.
    }
    this.wakeup.wake()
  }

}

/** Starts the binary with any arguments, stdout and stderr collected. */
export function spawnBinary(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Child {
  requireBinary()
  const proc = Bun.spawn([BINARY, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: { ...cleanEnv(), ...options.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return new Child(proc)
}

export interface BinaryServerOptions {
  /** SQLite file; a fresh one in a new temp dir by default. */
  dataFile?: string
  /** 0 (the default) lets the server pick; the chosen port is read from its listening line. */
  port?: number
  args?: string[]
  env?: Record<string, string>
  /** Deadline for the listening line and /readyz. */
  readyTimeoutMs?: number
}

/** A running `ringcast serve` child on 127.0.0.1. */
export class BinaryServer extends Child {
  url = ''
  port = 0

  constructor(
    proc: Subprocess<'ignore', 'pipe', 'pipe'>,
    readonly dataFile: string,
    readonly dir: string | undefined,
  ) {
    super(proc)
  }

  /** SIGTERM, then waits for exit; returns the exit code and how long the exit took (ms). */
  async terminate(timeoutMs = 10_000): Promise<{ code: number; ms: number }> {
    const started = performance.now()
    this.kill('SIGTERM')
    const code = await this.exit(timeoutMs)
    return { code, ms: (this.exitedAt ?? performance.now()) - started }
  }

  /** Kills the process and removes the temp dir it created (if it created one). */
  override async dispose(): Promise<void> {
    await super.dispose()
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Spawns `dist/ringcast serve` on 127.0.0.1 and resolves once its listening line has been logged
 * and `/readyz` answers 200 (polled with a deadline). Throws with the server's stderr otherwise.
 */
export async function startBinary(options: BinaryServerOptions = {}): Promise<BinaryServer> {
  requireBinary()
  const dir = options.dataFile ? undefined : tempDir()
  const dataFile = options.dataFile ?? join(dir!, 'ringcast.db')
  const proc = Bun.spawn([BINARY, 'serve', '--host', '127.0.0.1', '--port', String(options.port ?? 0), '--data', dataFile, '--log-level', 'info', ...(options.args ?? [])], {
    cwd: tmpdir(),
    env: { ...cleanEnv(), ...options.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const server = new BinaryServer(proc, dataFile, dir)
  const timeoutMs = options.readyTimeoutMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  try {
    const match = await server.waitFor(/ringcast listening url="(http:\/\/[^"]+)"/, 'stderr', timeoutMs)
    server.url = match[1]
    server.port = Number(new URL(server.url).port)
    await waitReady(server.url, deadline - Date.now(), () => server.exitedAt !== undefined)
  } catch (error) {
    await server.dispose()
    throw new Error(`ringcast did not become ready: ${(error as Error).message}\nstderr:\n${server.stderr}`)
  }
  return server
}

/** Polls `GET /readyz` until it answers 200, with a deadline. */
export async function waitReady(url: string, timeoutMs = 10_000, isGone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (isGone()) throw new Error('the server exited')
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) return
      last = `${res.status} ${await res.text()}`
    } catch (error) {
      last = String(error)
    }
    await Bun.sleep(20)
  }
  throw new Error(`${url}/readyz did not answer 200 within ${timeoutMs} ms (last: ${last})`)
}

/** Waits until the server lists a live connection whose patterns include `pattern` (a client's subscription is in place). */
export async function waitSubscribed(url: string, pattern: string, stderr: () => string = () => '', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!JSON.stringify(await (await fetch(`${url}/v1/connections`)).json()).includes(pattern)) {
    if (Date.now() > deadline) throw new Error(`never subscribed to ${pattern}; stderr: ${stderr()}`)
    await Bun.sleep(20)
  }
}

/** POSTs a JSON body to a stream and returns status and parsed body. */
export async function post(url: string, stream: string, body: unknown, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/streams/${stream}/events`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers }, signal })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

/** Every retained event matching the patterns, via the NDJSON export. */
export async function exportNdjson(url: string, patterns: string[], after = 0, headers: Record<string, string> = {}): Promise<any[]> {
  const q = new URLSearchParams()
  for (const p of patterns) q.append('stream', p)
  q.set('after', String(after))
  const res = await fetch(`${url}/v1/events?${q}`, { headers: { Accept: 'application/x-ndjson', ...headers } })
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`)
  expectContentType(res, 'application/x-ndjson')
  const text = await res.text()
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
}

function expectContentType(res: Response, type: string): void {
  const got = res.headers.get('content-type') ?? ''
  if (!got.includes(type)) throw new Error(`expected Content-Type ${type}, got ${got}`)
}
