import { queryOf } from '../client/filter'
import { Api, need, TOKEN_FLAG, URL_FLAG } from './client'
import type { Command } from './command'
import { count, Progress, size } from './progress'
import { FILTER_FLAGS, filterOf } from './tail'

/** `ringcast export PATTERN...`: every retained event after --after as NDJSON on stdout, progress on a terminal's stderr. */
export const exportCommand: Command = {
  name: 'export',
  words: 'PATTERN...',
  maxWords: Number.POSITIVE_INFINITY,
  summary: 'print retained events as NDJSON (what import reads)',
  details: ['One JSON envelope per line, in id order. With stdout to a file and stderr on a terminal, shows progress on stderr.'],
  flags: [URL_FLAG, TOKEN_FLAG, { name: 'after', kind: 'value', value: 'ID', help: 'only events after this id', default: '0' }, ...FILTER_FLAGS],
  async run({ words, flags }) {
    need(words[0], 'PATTERN', 'export')
    const api = new Api(flags)
    const response = await api.fetch(`/v1/events?${queryOf(filterOf(words, flags), { after: flags.after ?? '0' })}`, { headers: { Accept: 'application/x-ndjson' } })
    let events = 0
    let bytes = 0
    const summary = () => `exported ${count(events, 'event')} (${size(bytes)})`
    const isShown = !process.stdout.isTTY && process.stderr.isTTY === true
    const progress = new Progress(isShown, summary)
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      process.stdout.write(chunk)
      bytes += chunk.byteLength
      for (const byte of chunk) if (byte === 10) events++
      progress.tick()
    }
    progress.done()
    if (isShown) process.stderr.write(`ringcast: ${summary()}\n`)
  },
}
