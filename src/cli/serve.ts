import { mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { bannerFields } from '../banner'
import { ConfigError, envNameOf, flagOf, loadConfig, SETTINGS } from '../config'
import { guardProcess } from '../crash-guard'
import { TlsError } from '../listener'
import { Logger } from '../logger'
import { AuthConfigError, RedisStartError, startServer } from '../server'
import { DataFileInUseError } from '../store/data-file-lock'
import type { FlagSpec } from './args'
import type { Command } from './command'
import { CliError } from './errors'

/** `ringcast serve`: load config, start, drain on SIGTERM/SIGINT, reload TLS on SIGHUP. Start-up failures are one line, exit 1. */
export const serveCommand: Command = {
  name: 'serve',
  words: '',
  maxWords: 0,
  summary: 'run the server (the default command)',
  details: [
    'Settings come from flags, then RINGCAST_* environment variables, then the --config file, then defaults.',
    'SIGTERM/SIGINT drain and exit 0 within 5 s; SIGHUP reloads --tls-cert/--tls-key.',
  ],
  flags: Object.entries(SETTINGS).map(([name, setting]): FlagSpec => {
    const schema = setting.schema as { type?: string; anyOf?: { const: string }[] }
    const value = 'value' in setting ? setting.value : schema.type === 'integer' ? 'N' : schema.anyOf ? schema.anyOf.map((s) => s.const).join('|') : schema.type === 'array' ? 'LIST' : 'VALUE'
    const def = 'default' in setting && setting.default !== undefined ? String(setting.default) : undefined
    return { name: flagOf(name).slice(2), kind: schema.type === 'boolean' ? 'boolean' : 'value', value, help: setting.help, env: envNameOf(name), default: def || undefined }
  }),
  run: ({ flags }, env) => serve(flags, env),
}

async function serve(flags: Record<string, string>, env: Record<string, string | undefined>): Promise<void> {
  let config
  try {
    config = loadConfig(flags, env, (path) => readFileSync(path, 'utf8'))
  } catch (error) {
    throw error instanceof ConfigError ? new CliError(error.message) : error
  }
  const logger = new Logger(config.logLevel, config.logFormat)
  if (!config.redis && config.data !== ':memory:') {
    try {
      mkdirSync(dirname(config.data), { recursive: true })
    } catch (error) {
      throw new CliError(`invalid --data ${config.data}: cannot create its directory (${(error as Error).message})`)
    }
  }
  let server
  try {
    server = await startServer(config, logger)
  } catch (error) {
    throw new CliError(startFailure(error, config))
  }
  if (!config.jwtSecret && !config.jwtKey) {
    logger.warn('no --jwt-secret or --jwt-key: the server is OPEN, anyone who can reach it may publish, read and administer; it binds 127.0.0.1 unless --host is given')
  }
  guardProcess(logger)

  let isStopping = false
  const shutdown = (signal: string) => {
    // A terminal's Ctrl-C may reach us twice (directly and through the npx launcher).
    if (isStopping) return
    isStopping = true
    logger.info('draining', { signal })
    // Whatever happens, exit within the 5 s the contract promises.
    setTimeout(() => process.exit(0), 4500).unref()
    server.stop().then(
      (drained) => {
        logger.info('stopped', { connections: drained.sse + drained.ws + drained.poll, sse: drained.sse, ws: drained.ws, poll: drained.poll, ms: drained.ms })
        process.exit(0)
      },
      (error) => {
        logger.error('drain failed', { error: String(error) })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGHUP', () => {
    if (!config.tlsCert) return logger.warn('SIGHUP ignored: there is no --tls-cert to reload')
    try {
      server.reloadTls()
      logger.info('tls reloaded', { cert: config.tlsCert })
    } catch (error) {
      logger.error('tls reload failed; new connections keep the previous certificate', { error: (error as Error).message })
    }
  })
  // Last: whoever waits for this line may signal at once, and the handlers are in place.
  logger.info('ringcast listening', bannerFields(config, server.url, server.node))
}

/** One line naming the setting that kept the server from starting. */
function startFailure(error: unknown, config: { data: string; host: string; port: number }): string {
  if (error instanceof AuthConfigError || error instanceof TlsError || error instanceof RedisStartError) return error.message
  if (error instanceof DataFileInUseError) return `invalid --data ${config.data}: ${error.message}`
  const message = (error as Error).message ?? String(error)
  if (/EADDRINUSE|in use/i.test(message)) return `invalid --port ${config.port}: ${config.host}:${config.port} is already in use`
  if (/EADDRNOTAVAIL|EACCES|listen/i.test(message)) return `invalid --host ${config.host} / --port ${config.port}: cannot listen (${message})`
  // Anything bun:sqlite refuses at open (not a database, corrupt, read-only) is about --data.
  if ((error as Error).name === 'SQLiteError') return `invalid --data ${config.data}: ${message}`
  return `cannot start: ${message}`
}
