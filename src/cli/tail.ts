import type { Filter } from '../client/filter'
import { RingcastError } from '../client/errors'
import type { Envelope } from '../client/types'
import { eventLine } from '../event-line'
import type { FlagSpec } from './args'
import { Api, need, TOKEN_FLAG, URL_FLAG } from './client'
import type { Command, Env } from './command'
import { CliError, UsageError } from './errors'

/** Flags that choose what a subscription or export reads. */
export const FILTER_FLAGS: FlagSpec[] = [
  { name: 'types', kind: 'value', value: 'T[,T]', help: 'only these event types (comma-separated)' },
  { name: 'correlation-id', kind: 'value', value: 'ID', help: "only this workflow's events" },
]

/** The patterns and FILTER_FLAGS of a command line as the client library's filter. */
export function filterOf(patterns: string[], flags: Record<string, string>): Filter {
  return { streams: patterns, types: flags.types?.split(','), correlationId: flags['correlation-id'] }
}

/** `ringcast tail PATTERN...`: events as they arrive, pretty on a terminal, JSON lines otherwise; resumes by id. */
export const tailCommand: Command = {
  name: 'tail',
  words: 'PATTERN...',
  maxWords: Number.POSITIVE_INFINITY,
  summary: 'print events as they arrive (SSE), resuming by id after a reconnect',
  details: [
    'Starts after the current last event, so a reconnect loses nothing; --after 0 prints the retained history first.',
    'On a terminal: one coloured line per event (time, stream, #id, type, data; NO_COLOR=1 for none).',
    'Otherwise: one JSON envelope per line. Gaps and resets are noted on stderr.',
    'Ends when every stream it names exactly is closed; follows patterns until interrupted; waits for a restarting server.',
  ],
  flags: [URL_FLAG, TOKEN_FLAG, { name: 'after', kind: 'value', value: 'ID', help: 'start after this id (0: all retained history)' }, ...FILTER_FLAGS],
  async run({ words, flags }, env) {
    need(words[0], 'PATTERN', 'tail')
    const api = new Api(flags)
    const sub = api.client().subscribe({ ...filterOf(words, flags), after: afterOf(flags.after) })
    const print = printer(env)
    let isFollowing = false
    let failure: unknown
    sub.on('state', (state) => {
      if (state === 'open') isFollowing = true
    })
    sub.on('error', (error) => {
      // Unreachable or refused at start is an error; once following, a restarting server is waited for.
      if (isFollowing) return
      failure ??= error
      sub.close()
    })
    sub.on('gap', ({ after, firstId }) => note(`gap: events after #${after} before #${firstId} were removed by retention`))
    sub.on('reset', ({ after, lastId }) => note(`reset: the server never issued #${after} (its last id is #${lastId}); following from there`))
    try {
      for await (const event of sub) process.stdout.write(`${print(event)}\n`)
    } catch (error) {
      // Once following, the library ends only on a refusal: a token that expired is the one to expect.
      if (isFollowing && error instanceof RingcastError && error.status === 401) {
        throw new CliError(`${error.status} ${error.message} Run tail again with a fresh --token and --after ${sub.lastId} to miss nothing.`)
      }
      failure ??= error
    }
    if (failure) throw api.failure(failure)
    if (!isFollowing) note(`${words.join(' ')} is closed: nothing after #${sub.lastId}${sub.lastId === 0 ? '' : ' (--after 0 prints its history)'}`)
  },
}

function afterOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`--after takes an event id (0: all retained history), not "${value}"`)
  return Number(value)
}

function printer(env: Env): (event: Envelope) => string {
  if (!process.stdout.isTTY) return (event) => JSON.stringify(event)
  const isColored = !env.NO_COLOR && env.TERM !== 'dumb'
  return (event) => eventLine(event, { isColored, isTimeOnly: true })
}

function note(line: string): void {
  process.stderr.write(`ringcast: ${line}\n`)
}
