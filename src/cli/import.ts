import { createHash } from 'node:crypto'
import { fstatSync } from 'node:fs'
import { Api, TOKEN_FLAG, URL_FLAG } from './client'
import type { Command } from './command'
import { CliError, UsageError } from './errors'
import { bar, count, Progress, size } from './progress'

interface Item {
  type?: string
  data: unknown
  key: string
  correlationId?: string
}

// Under the server's default --max-payload (1 MiB) with room for the array around the items.
const MAX_BATCH_BYTES = 512 * 1024

/** `ringcast import`: NDJSON envelopes from stdin, each published to its own stream (or --stream), in batches, idempotently. */
export const importCommand: Command = {
  name: 'import',
  words: '',
  maxWords: 0,
  summary: 'publish NDJSON envelopes from stdin (what export writes)',
  details: [
    'Each event goes to its own stream (or --stream NAME), keeping type, data, key and correlationId; ids and times are new.',
    'An event without a key gets one derived from its original stream and id, so importing the same file twice stores',
    'nothing twice (within the server dedup window). With --stream, events of different streams that share a key are stored once.',
    'A 429 is waited out (Retry-After). Progress on a terminal stderr; a summary line at the end.',
  ],
  flags: [
    URL_FLAG,
    TOKEN_FLAG,
    { name: 'stream', kind: 'value', value: 'NAME', help: 'publish every event to this stream instead of its own' },
    { name: 'batch', kind: 'value', value: 'N', help: 'most events per request (at most the server --max-batch)', default: '500' },
  ],
  async run({ flags }) {
    const maxBatch = Number(flags.batch ?? 500)
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new UsageError(`--batch takes a positive integer, not "${flags.batch}"`)
    if (process.stdin.isTTY) throw new UsageError('pipe NDJSON into stdin, e.g. ringcast import < events.ndjson (see ringcast help import)')
    const api = new Api(flags)
    const totalBytes = stdinFileSize()
    const counts = { events: 0, stored: 0, duplicates: 0, bytes: 0 }
    const streams = new Set<string>()
    const progress = new Progress(process.stderr.isTTY === true, () => `${bar(counts.bytes, totalBytes)}${count(counts.events, 'event')}, ${size(counts.bytes)}`)
    let batch: { stream: string; items: Item[]; bytes: number } | undefined
    const flush = async () => {
      if (!batch) return
      const body = JSON.stringify(batch.items)
      const response = await api.fetch(`/v1/streams/${encodeURIComponent(batch.stream)}/events`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }, { isRateLimitWaited: true })
      for (const stored of (await response.json()) as { duplicate?: boolean }[]) {
        if (stored.duplicate) counts.duplicates++
        else counts.stored++
      }
      batch = undefined
      progress.tick()
    }
    let lineNo = 0
    for await (const line of linesOf(Bun.stdin.stream())) {
      lineNo++
      counts.bytes += Buffer.byteLength(line) + 1
      if (line.trim() === '') continue
      const { stream, item } = itemOf(line, lineNo, flags.stream)
      const bytes = Buffer.byteLength(JSON.stringify(item)) + 1
      if (batch && (batch.stream !== stream || batch.items.length >= maxBatch || batch.bytes + bytes > MAX_BATCH_BYTES)) await flush()
      batch ??= { stream, items: [], bytes: 0 }
      batch.items.push(item)
      batch.bytes += bytes
      counts.events++
      streams.add(stream)
    }
    await flush()
    progress.done()
    process.stdout.write(`imported ${count(counts.events, 'event')} into ${count(streams.size, 'stream')}: ${counts.stored} stored, ${count(counts.duplicates, 'duplicate')} not stored again\n`)
  },
}

/** The target stream and the event to publish, from one export line. */
function itemOf(line: string, lineNo: number, streamFlag: string | undefined): { stream: string; item: Item } {
  let envelope: Record<string, unknown>
  try {
    envelope = JSON.parse(line)
  } catch (error) {
    throw new CliError(`line ${lineNo} is not JSON (${(error as Error).message}); the lines before it were imported, and importing again stores nothing twice`)
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope) || !('data' in envelope)) {
    throw new CliError(`line ${lineNo} is not an event envelope: expected {"stream", "data", "type"?, "key"?, "correlationId"?, "id"?}`)
  }
  const original = typeof envelope.stream === 'string' ? envelope.stream : undefined
  const stream = streamFlag ?? original
  if (!stream) throw new CliError(`line ${lineNo} has no "stream"; give --stream NAME to import it`)
  const key = typeof envelope.key === 'string' ? envelope.key : derivedKey(original, envelope.id, line)
  const item: Item = { data: envelope.data, key }
  if (typeof envelope.type === 'string') item.type = envelope.type
  if (typeof envelope.correlationId === 'string') item.correlationId = envelope.correlationId
  return { stream, item }
}

/** The same original always gets the same key: its stream and id, or a hash of its line when it has no id. */
function derivedKey(stream: string | undefined, id: unknown, line: string): string {
  const readable = typeof id === 'number' ? `import:${stream ?? ''}#${id}` : undefined
  // Keys are at most 256 characters; a long stream name is hashed instead.
  if (readable && readable.length <= 256) return readable
  return `import:${createHash('sha256').update(readable ?? line).digest('hex').slice(0, 32)}`
}

function stdinFileSize(): number | undefined {
  try {
    const stat = fstatSync(0)
    return stat.isFile() ? stat.size : undefined
  } catch {
    return undefined
  }
}

async function* linesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const lines = (buffer + decoder.decode(chunk, { stream: true })).split('\n')
    buffer = lines.pop()!
    yield* lines
  }
  buffer += decoder.decode()
  if (buffer !== '') yield buffer
}
