import type { FlagSpec } from './args'
import { Api, need, TOKEN_FLAG, URL_FLAG } from './client'
import type { Command } from './command'
import { UsageError } from './errors'

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
  ],
  flags: [URL_FLAG, TOKEN_FLAG, ...EVENT_FLAGS],
  async run({ words, flags }) {
    const stream = need(words[0], 'STREAM', 'publish')
    const api = new Api(flags)
    let body: string
    let contentType = 'application/json'
    if (words[1] !== undefined) {
      let data: unknown = words[1]
      try {
        data = JSON.parse(words[1])
      } catch {
        // Plain text is the event's data as it is.
      }
      const event = { type: flags.type ?? 'message', data, key: flags.key, correlationId: flags['correlation-id'], terminal: flags.terminal === 'true' || undefined }
      body = JSON.stringify(event)
    } else {
      const given = EVENT_FLAGS.find((f) => flags[f.name] !== undefined)
      if (given) throw new UsageError(`--${given.name} applies to DATA; NDJSON lines on stdin carry their own fields (see ringcast help publish)`)
      if (process.stdin.isTTY) throw new UsageError('give DATA, or pipe NDJSON events into stdin (see ringcast help publish)')
      body = await Bun.stdin.text()
      contentType = 'application/x-ndjson'
    }
    const response = await api.fetch(`/v1/streams/${encodeURIComponent(stream)}/events`, { method: 'POST', body, headers: { 'Content-Type': contentType } })
    process.stdout.write(`${await response.text()}\n`)
  },
}
