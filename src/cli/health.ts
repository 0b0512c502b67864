import { Api, URL_FLAG } from './client'
import type { Command } from './command'
import { CliError } from './errors'

/** `ringcast health`: exit 0 when the server answers /readyz, 1 otherwise (container health checks). */
export const healthCommand: Command = {
  name: 'health',
  words: '',
  maxWords: 0,
  summary: 'exit 0 if the server at --url is ready (container health checks)',
  details: ['Asks /readyz with a 2 s timeout; prints nothing when ready, one line on stderr otherwise.'],
  flags: [URL_FLAG],
  async run({ flags }) {
    const api = new Api(flags)
    try {
      await api.fetch('/readyz', { signal: AbortSignal.timeout(2000) })
    } catch (error) {
      throw error instanceof CliError ? new CliError(`not ready: ${error.message}`) : error
    }
  },
}
