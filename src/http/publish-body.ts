import { TypeCompiler } from '@sinclair/typebox/compiler'
import { RingcastError } from '../core/errors'
import type { PublishItem as HubItem } from '../core/hub'
import { PublishItem } from '../transports/wire'
import { invalid } from '../validation'

const checkItem = TypeCompiler.Compile(PublishItem)
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Reads a request body, refusing it as soon as it passes `maxBytes` (checked before buffering it all). */
export async function readBody(request: Request, maxBytes: number): Promise<string> {
  const length = request.headers.get('content-length')
  const declared = length === null ? Number.NaN : Number(length)
  if (declared > maxBytes) throw tooLarge(maxBytes)
  // A declared length within the limit is read in one go (Bun holds it to that length): the common, cheap case.
  // It comes before `request.body`, which builds a ReadableStream the one-go read never needs.
  if (declared >= 0) return decode(await request.bytes())
  if (!request.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > maxBytes) throw tooLarge(maxBytes)
    chunks.push(chunk)
  }
  return decode(Buffer.concat(chunks))
}

function decode(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new RingcastError('bad_request', 'The body is not valid UTF-8.', 'Send UTF-8 text.')
  }
}

/** The events a publish body holds: a JSON object or array, NDJSON lines, or plain text as one event's data. */
export function parsePublishBody(text: string, contentType: string, idempotencyKey: string | null, maxBatch: number): { items: HubItem[]; isBatch: boolean } {
  const mime = contentType.split(';')[0].trim().toLowerCase()
  let raw: unknown[]
  let isBatch: boolean
  if (mime === 'application/x-ndjson' || mime === 'application/jsonl') {
    raw = text.split('\n').flatMap((line, i) => (line.trim() === '' ? [] : [parseJson(line, `line ${i + 1}`)]))
    isBatch = true
  } else if (mime === '' || mime === 'application/json' || mime.endsWith('+json')) {
    const body = parseJson(text, 'body')
    isBatch = Array.isArray(body)
    raw = isBatch ? (body as unknown[]) : [body]
  } else if (mime.startsWith('text/')) {
    raw = [{ data: text }]
    isBatch = false
  } else {
    throw new RingcastError('unsupported_media_type', `Unsupported content type "${mime}".`, 'Send application/json, application/x-ndjson or text/plain.')
  }
  if (raw.length === 0) throw new RingcastError('invalid_body', 'The batch holds no events.', 'Send at least one event.')
  if (raw.length > maxBatch) throw new RingcastError('batch_too_large', `The batch holds ${raw.length} events; the limit is ${maxBatch}.`, 'Split it into smaller batches.')
  const items = raw.map((item, i) => toItem(item, isBatch ? `[${i}]` : ''))
  items.forEach((item, i) => {
    if (item.terminal && i !== items.length - 1) throw new RingcastError('invalid_body', `Event ${i} is terminal but is not the last of the batch.`, 'Only the last event of a batch may close the stream.')
    if (idempotencyKey !== null && item.key === undefined) item.key = isBatch ? `${idempotencyKey}:${i}` : idempotencyKey
  })
  return { items, isBatch }
}

function toItem(value: unknown, at: string): HubItem {
  if (!checkItem.Check(value)) {
    throw invalid(checkItem.Errors(value).First(), { code: 'invalid_body', prefix: at, root: at === '' ? 'the event' : `event ${at}`, hint: 'An event is {type?, data, key?, correlationId?, terminal?}.' })
  }
  const item = value as HubItem & { type?: string }
  return { ...item, type: item.type ?? 'message' }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new RingcastError('bad_request', `The ${what} is not valid JSON: ${(error as Error).message}`, 'Send a JSON object, an array of them, or NDJSON.')
  }
}

function tooLarge(maxBytes: number): RingcastError {
  return new RingcastError('payload_too_large', `The body is larger than ${maxBytes} bytes.`, 'Send smaller events or split the batch (see --max-payload).')
}
