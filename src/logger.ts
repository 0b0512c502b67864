export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'text' | 'json'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/**
 * One line per record on stderr: `time LEVEL message key=value…`, or with format json one object
 * `{"time","level","msg",…fields}`. Never pass tokens in.
 */
export class Logger {
  constructor(
    private readonly level: LogLevel,
    private readonly format: LogFormat = 'text',
  ) {}

  /** Check before building an expensive record. */
  isEnabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level]
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields)
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields)
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields)
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields)
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (!this.isEnabled(level)) return
    const time = new Date().toISOString()
    if (this.format === 'json') {
      process.stderr.write(`${JSON.stringify({ time, level, msg: message, ...fields })}\n`)
      return
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${message}`
    if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`
    process.stderr.write(`${line}\n`)
  }
}
