import { startBinary } from './binary'
import { startTestServer } from './start-server'

/** What users run: the compiled binary, and the source in-process (where the tests can look inside). */
export type TargetKind = 'source' | 'binary'

/** Suites that guard behaviour run once per target, so no difference between source and binary goes unnoticed. */
export const TARGETS: readonly TargetKind[] = ['source', 'binary']

export interface Target {
  readonly kind: TargetKind
  readonly url: string
  readonly port: number
  /** The server's process id (the binary only: the source runs inside the test process). */
  readonly pid?: number
  /** Stops the server and removes its temp dir. */
  close(): Promise<void>
}

/** A fresh server of that kind on 127.0.0.1 with its own data file; `flags` as on the command line, without `--`. */
export async function startTarget(kind: TargetKind, flags: Record<string, string> = {}): Promise<Target> {
  if (kind === 'source') {
    const server = await startTestServer(flags)
    return { kind, url: server.url, port: server.port, close: () => server.close() }
  }
  const server = await startBinary({ args: Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value]) })
  return { kind, url: server.url, port: server.port, pid: server.pid, close: () => server.dispose() }
}
