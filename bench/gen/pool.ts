import type { Subprocess } from 'bun'
import type { Command } from './protocol.ts'

const WORKER = new URL('./worker.ts', import.meta.url).pathname

/** The generator's worker processes, driven over IPC; each command resolves with the worker's answer. */
export class Pool {
  private procs: Subprocess[] = []
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private nextId = 1

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      this.procs.push(Bun.spawn([process.execPath, WORKER], {
        stdio: ['ignore', 'inherit', 'inherit'],
        serialization: 'json',
        ipc: (msg: { id: number; ok: boolean; value?: unknown; error?: string }) => {
          const w = this.waiting.get(msg.id)
          this.waiting.delete(msg.id)
          if (msg.ok) w?.resolve(msg.value)
          else w?.reject(new Error(`generator worker: ${msg.error}`))
        },
        onExit: (_p, code) => {
          if (code && this.procs.length) {
            for (const w of this.waiting.values()) w.reject(new Error(`generator worker exited with ${code}`))
            this.waiting.clear()
          }
        },
      }))
    }
  }

  get pids(): number[] { return this.procs.map((p) => p.pid) }

  send<T>(worker: number, cmd: Command): Promise<T> {
    const id = this.nextId++
    const p = new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }))
    this.procs[worker].send({ id, cmd })
    return p
  }

  /** The same command to every worker (or one built per worker). */
  all<T>(cmd: Command | ((worker: number) => Command)): Promise<T[]> {
    return Promise.all(this.procs.map((_, i) => this.send<T>(i, typeof cmd === 'function' ? cmd(i) : cmd)))
  }

  stop(): void {
    const procs = this.procs
    this.procs = []
    for (const p of procs) p.kill()
  }
}
