import type { Logger } from './logger'

/**
 * Keeps a serving process alive through an exception nothing caught (a timer, a callback, a promise):
 * it is logged once with its stack and the server goes on, instead of taking every client down with it.
 */
export function guardProcess(logger: Logger): void {
  process.on('uncaughtException', (error) => logger.error('uncaught exception; still serving', { error: String(error?.stack ?? error) }))
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection; still serving', { error: String((reason as Error)?.stack ?? reason) }))
}
