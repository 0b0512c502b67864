import { mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { ConfigError, loadConfig } from '../config'
import { guardProcess } from '../crash-guard'
import { Logger } from '../logger'
import { AuthConfigError, startServer } from '../server'
import { DataFileInUseError } from '../store/sqlite-log'

/** `ringcast serve`: load config, start, drain on SIGTERM/SIGINT. Startup failures are one line and exit 1. */
export async function serve(flags: Record<string, string>, env: Record<string, string | undefined>): Promise<void> {
  let config
  try {
    config = loadConfig(flags, env, (path) => readFileSync(path, 'utf8'))
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message)
    throw error
  }
  const logger = new Logger(config.logLevel)
  if (config.data !== ':memory:') {
    try {
      mkdirSync(dirname(config.data), { recursive: true })
    } catch (error) {
      fail(`invalid --data ${config.data}: cannot create its directory (${(error as Error).message})`)
    }
  }
  let server
  try {
    server = await startServer(config, logger)
  } catch (error) {
    if (error instanceof AuthConfigError) fail(error.message)
    if (error instanceof DataFileInUseError) fail(`invalid --data ${config.data}: ${error.message}`)
    const message = (error as Error).message ?? String(error)
    if (/EADDRINUSE|in use/i.test(message)) fail(`invalid --port ${config.port}: ${config.host}:${config.port} is already in use`)
    if (/EADDRNOTAVAIL|EACCES|listen/i.test(message)) fail(`invalid --host ${config.host} / --port ${config.port}: cannot listen (${message})`)
    // Anything bun:sqlite refuses at open (not a database, corrupt, read-only) is about --data.
    if ((error as Error).name === 'SQLiteError') fail(`invalid --data ${config.data}: ${message}`)
    fail(`cannot start: ${message}`)
  }
  if (!config.jwtSecret && !config.jwtKey) {
    logger.warn('no --jwt-secret or --jwt-key: the server is OPEN, anyone who can reach it may publish, read and administer; it binds 127.0.0.1 unless --host is given')
  }
  guardProcess(logger)
  logger.info('ringcast listening', { url: server.url, data: config.data, durability: config.durability })

  const shutdown = (signal: string) => {
    logger.info('draining', { signal })
    // Whatever happens, exit within the 5 s the contract promises.
    setTimeout(() => process.exit(0), 4500).unref()
    server.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error('drain failed', { error: String(error) })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

function fail(line: string): never {
  process.stderr.write(`ringcast: ${line}\n`)
  process.exit(1)
}
