import type { PublishItem, StoredEvent } from '../client/types'
import type { FlagSpec } from './args'
import { Api, need, TOKEN_FLAG, URL_FLAG } from './client'
import type { Command } from './command'
import { CliError, UsageError } from './errors'

const EVENT_FLAGS: FlagSpec[] = [
  { name: 'type', kind: 'value', value: 'TYPE', help: 'event type of DATA', default: 'message' },
  { name: 'key', kind: 'value', value: 'KEY', help: 'idempotency key of DATA: a repeat within the dedup window is not stored again' },
  { name: 'correlation-id', kind: 'value', value: 'ID', help: 'correlation id of DATA (subscriptions may narrow to it)' },
  { name: 'terminal', kind: 'boolean', help: 'close the stream with DATA', default: 'false' },
]

/** `ringcast publish STREAM [DATA]`: one event from DATA, or NDJSON events from stdin as one batch. */
export const publishCommand: Command = {
  name: 'publish',
  words: 'STREAM [DATA]',
  maxWords: 2,
  summary: 'publish one event (DATA), or NDJSON events from stdin',
  details: [
    'DATA is the event data: JSON if it parses, else the text as a string.',
    'Without DATA, stdin is NDJSON: one {"type"?, "data", "key"?, "correlationId"?, "terminal"?} per line, sent as one batch.',
    'Prints what the server stored: the event, or an array for stdin.',
    'A server that is unreachable, busy or restarting is tried again for about a second and a half, under an',
    'idempotency key (--key, else a random one, printed with the event), so a retry never stores an event twice.',
  ],
  flags: [URL_FLAG, TOKEN_FLAG, ...EVENT_FLAGS],
  async run({ words, flags }) {
    const stream = need(words[0], 'STREAM', 'publish')
    const api = new Api(flags)
    const rc = api.client()
    let stored: StoredEvent | StoredEvent[]
    try {
      stored = words[1] !== undefined ? await rc.publish(stream, itemOf(words[1], flags)) : await rc.publish(stream, await stdinItems(flags))
    } catch (error) {
      throw api.failure(error)
    }
    process.stdout.write(`${JSON.stringify(stored)}\n`)
  },
}

/** The event DATA and the flags describe; DATA is JSON if it parses, else the text as a string. */
function itemOf(text: string, flags: Record<string, string>): PublishItem {
  let data: unknown = text
  try {
    data = JSON.parse(text)
  } catch {
    // Plain text is the event's data as it is.
  }
  return { type: flags.type ?? 'message', data, key: flags.key, correlationId: flags['correlation-id'], terminal: flags.terminal === 'true' || undefined }
}

/** The NDJSON events on stdin, one per non-blank line (the server checks their fields). */
async function stdinItems(flags: Record<string, string>): Promise<PublishItem[]> {
  const given = EVENT_FLAGS.find((f) => flags[f.name] !== undefined)
  if (given) throw new UsageError(`--${given.name} applies to DATA; NDJSON lines on stdin carry their own fields (see ringcast help publish)`)
  if (process.stdin.isTTY) throw new UsageError('give DATA, or pipe NDJSON events into stdin (see ringcast help publish)')
  return (await Bun.stdin.text()).split('\n').flatMap((line, i) => {
    if (line.trim() === '') return []
    try {
      return [JSON.parse(line) as PublishItem]
    } catch (error) {
      throw new CliError(`line ${i + 1} of stdin is not JSON (${(error as Error).message}); nothing was published`)
    }
  })
}
