import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { Logger } from '../../src/logger'
import { type Server, startServer } from '../../src/server'

export interface TestServer extends Server {
  dir: string
  dataFile: string
  /** Stops the server and deletes its temp dir. */
  close(): Promise<void>
}

/** An in-process server on 127.0.0.1, port 0, with a fresh SQLite file in a temp dir. Flags as on the command line. */
export async function startTestServer(flags: Record<string, string> = {}, dir = mkdtempSync(join(tmpdir(), 'ringcast-test-'))): Promise<TestServer> {
  const dataFile = flags.data ?? join(dir, 'ringcast.db')
  const config = loadConfig({ port: '0', 'log-level': 'error', ...flags, data: dataFile }, {}, () => '{}')
  const server = await startServer(config, new Logger(config.logLevel))
  return {
    ...server,
    dir,
    dataFile,
    close: async () => {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Publishes events and returns the stored envelopes. */
export async function publish(base: string, stream: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/v1/streams/${stream}/events`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } })
  return { status: res.status, body: await res.json() }
}
