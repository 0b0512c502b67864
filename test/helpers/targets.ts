import { startBinary } from './binary'
import { TestCluster } from './cluster'
import { startTestServer } from './start-server'

/**
 * What users run: the compiled binary, the source in-process (where the tests can look inside),
 * and two binaries on one Redis, publishing on one node and subscribing on the other.
 */
export type TargetKind = 'source' | 'binary' | 'cluster'

/** Suites that guard behaviour run once per target, so no difference between source and binary goes unnoticed. */
export const TARGETS: readonly TargetKind[] = ['source', 'binary']

export interface Target {
  readonly kind: TargetKind
  /** Where clients subscribe, poll and read. */
  readonly url: string
  /** Where they publish: another node than `url` in a cluster. */
  readonly publishUrl: string
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
    return { kind, url: server.url, publishUrl: server.url, port: server.port, close: () => server.close() }
  }
  const args = Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value])
  if (kind === 'cluster') {
    const cluster = await TestCluster.start(2, args)
    const [publisher, subscriber] = cluster.nodes
    return { kind, url: subscriber.url, publishUrl: publisher.url, port: subscriber.port, pid: subscriber.pid, close: () => cluster.close() }
  }
  const server = await startBinary({ args })
  return { kind, url: server.url, publishUrl: server.url, port: server.port, pid: server.pid, close: () => server.dispose() }
}
