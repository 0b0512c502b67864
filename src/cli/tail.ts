import { eventLine } from '../event-line'
import type { FlagSpec } from './args'
import { Api, need, streamQuery, TOKEN_FLAG, UnreachableError, URL_FLAG } from './client'
import type { Command, Env } from './command'
import { CliError } from './errors'

/** Flags that choose what a subscription or export reads. */
export const FILTER_FLAGS: FlagSpec[] = [
  { name: 'types', kind: 'value', value: 'T[,T]', help: 'only these event types (comma-separated)' },
  { name: 'correlation-id', kind: 'value', value: 'ID', help: "only this workflow's events" },
]

interface Frame {
  id?: string
  event?: string
  data?: string
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
    const print = printer(env)
    let after = flags.after ?? (await lastIdOf(api, words, flags))
    let isFollowing = false
    for (;;) {
      let response: Response
      try {
        response = await api.fetch(`/v1/events?${streamQuery(words, flags, { after })}`, { headers: { Accept: 'text/event-stream' } })
      } catch (error) {
        // Unreachable at start is an error; once following, a restarting server is waited for.
        if (!isFollowing || !(error instanceof UnreachableError)) throw error
        await Bun.sleep(1000)
        continue
      }
      if (response.status === 204 || !response.body) {
        if (!isFollowing) note(`${words.join(' ')} is closed: nothing after #${after}${after === '0' ? '' : ' (--after 0 prints its history)'}`)
        return
      }
      isFollowing = true
      try {
        for await (const frame of framesOf(response.body)) {
          if (frame.id !== undefined && frame.data !== undefined) {
            after = frame.id
            process.stdout.write(`${print(frame.data)}\n`)
            continue
          }
          const payload = frame.data ? JSON.parse(frame.data) : {}
          if (frame.event === 'end') return
          if (frame.event === 'expired') throw new CliError('the token expired; run tail again with a fresh --token (and --after the last id printed)')
          if (frame.event === 'gap') note(`gap: events after #${payload.after} before #${payload.firstId} were removed by retention`)
          if (frame.event === 'reset') {
            note(`reset: the server never issued #${payload.after} (its last id is #${payload.lastId}); following from there`)
            after = String(payload.lastId)
          }
        }
      } catch (error) {
        if (error instanceof CliError) throw error
        // The connection was cut (server restarting): resume from the last id.
      }
      await Bun.sleep(1000)
    }
  },
}

/** The position to start from: the last id the server issued that this subscription would see. */
async function lastIdOf(api: Api, patterns: string[], flags: Record<string, string>): Promise<string> {
  const page = (await (await api.fetch(`/v1/events?${streamQuery(patterns, flags, { limit: '1' })}`)).json()) as { next: number }
  return String(page.next)
}

function printer(env: Env): (json: string) => string {
  if (!process.stdout.isTTY) return (json) => json
  const isColored = !env.NO_COLOR && env.TERM !== 'dumb'
  return (json) => eventLine(JSON.parse(json), { isColored, isTimeOnly: true })
}

function note(line: string): void {
  process.stderr.write(`ringcast: ${line}\n`)
}

async function* framesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let cut = buffer.indexOf('\n\n')
    while (cut >= 0) {
      const frame: Frame = {}
      for (const line of buffer.slice(0, cut).split('\n')) {
        const colon = line.indexOf(': ')
        const field = line.slice(0, colon)
        if (colon > 0 && (field === 'id' || field === 'event' || field === 'data')) frame[field] = line.slice(colon + 2)
      }
      buffer = buffer.slice(cut + 2)
      yield frame
      cut = buffer.indexOf('\n\n')
    }
  }
}
