import type { TargetSpec } from '../targets/target.ts'

/** A server under test that the suite started (or an external one for --target, with pid 0 unless given). */
export interface Server {
  spec: TargetSpec
  /** Process to measure (RSS, CPU); 0 when unknown. A cluster's first node. */
  pid: number
  /** A cluster's every process (its nodes, then Redis), measured together; absent for one process. */
  processes?: { name: string; pid: number }[]
  /** Where the server's build and launch came from, for the report. */
  description: string
  stop(): Promise<void>
}

/** Every process a server's figures sum over (none when its pid is unknown). */
export const pidsOf = (server: Server): number[] => server.processes?.map((p) => p.pid) ?? (server.pid ? [server.pid] : [])

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

/** Poll until GET url answers 200 (POST: any 2xx), or throw with the server's log tail. */
export async function waitReady(url: string, timeoutMs: number, logTail: () => string, hasExited = () => false, method: 'GET' | 'POST' = 'GET'): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (hasExited()) throw new Error(`server exited during start-up\n${logTail()}`)
    try {
      const res = await fetch(url, { method, body: method === 'POST' ? 'ready' : undefined })
      if (res.status === 200 || (method === 'POST' && res.ok)) return
    } catch { /* not listening yet */ }
    await Bun.sleep(50)
  }
  throw new Error(`server not ready at ${url} after ${timeoutMs} ms\n${logTail()}`)
}
