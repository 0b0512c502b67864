import { Readable } from 'node:stream'
import { brotliCompressSync, constants, createBrotliCompress, createGzip, createZstdCompress, gzipSync, zstdCompressSync } from 'node:zlib'
import { MIN_COMPRESS_BYTES } from '../transports/wire'

/** A content coding the server writes. */
export type Encoding = 'zstd' | 'br' | 'gzip'

/** What polling pages and exports are offered in, best first: zstd is the cheapest for its size, gzip what every client has. */
export const BODY_ENCODINGS: readonly Encoding[] = ['zstd', 'br', 'gzip']

// Brotli's default quality (11) is for static files: far too slow for answers built per request.
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }

/**
 * The coding to answer in: of `offered`, the one the client weights highest in Accept-Encoding
 * (q-values and `*` honoured, ties to the first offered); null for none (identity).
 */
export function negotiate<E extends Encoding>(acceptEncoding: string | null, offered: readonly E[]): E | null {
  if (!acceptEncoding) return null
  // Clients send the same few values over and over: each is parsed once (the cache is bounded).
  const key = `${offered.join()}|${acceptEncoding}`
  let best = negotiated.get(key) as E | null | undefined
  if (best === undefined) {
    if (negotiated.size >= 256) negotiated.clear()
    negotiated.set(key, (best = weighed(acceptEncoding, offered)))
  }
  return best
}

const negotiated = new Map<string, Encoding | null>()

function weighed<E extends Encoding>(acceptEncoding: string, offered: readonly E[]): E | null {
  const weights = new Map<string, number>()
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.split(';')
    const q = params.map((p) => /^\s*q\s*=\s*(\S*)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined)
    weights.set(name.trim().toLowerCase(), q === undefined ? 1 : Number(q) || 0)
  }
  let best: E | null = null
  let bestWeight = 0
  for (const encoding of offered) {
    const weight = weights.get(encoding) ?? weights.get('*') ?? 0
    if (weight > bestWeight) {
      best = encoding
      bestWeight = weight
    }
  }
  return best
}

/** A whole body, compressed in `encoding` when it is at least MIN_COMPRESS_BYTES. */
export function bodyResponse(body: string, encoding: Encoding | null, headers: Headers): Response {
  // Characters, not bytes: close enough for a threshold, and no pass over the body.
  if (encoding === null || body.length < MIN_COMPRESS_BYTES) return new Response(body, { headers })
  const compressed = encoding === 'zstd' ? zstdCompressSync(body) : encoding === 'br' ? brotliCompressSync(body, BROTLI) : gzipSync(body)
  const response = new Response(compressed, { headers })
  response.headers.set('Content-Encoding', encoding)
  return response
}

/** A streamed body, compressed in `encoding` unless it ends before MIN_COMPRESS_BYTES. */
export async function streamResponse(stream: ReadableStream<Uint8Array>, encoding: Encoding | null, headers: Record<string, string>): Promise<Response> {
  if (encoding === null) return new Response(stream, { headers })
  // Read ahead until the body is known to be small (and sent whole) or large enough to compress.
  const reader = stream.getReader()
  const head: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return new Response(Buffer.concat(head), { headers })
    head.push(value)
    size += value.byteLength
    if (size >= MIN_COMPRESS_BYTES) break
  }
  const rest = new ReadableStream<Uint8Array>({
    start: (controller) => {
      for (const chunk of head) controller.enqueue(chunk)
    },
    pull: async (controller) => {
      const { done, value } = await reader.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
  const compressor = encoding === 'zstd' ? createZstdCompress() : encoding === 'br' ? createBrotliCompress(BROTLI) : createGzip()
  const source = Readable.fromWeb(rest as never)
  // pipe() does not pass a failure on: without this the compressed body would never end.
  source.once('error', (error) => compressor.destroy(error))
  const body = Readable.toWeb(source.pipe(compressor)) as unknown as ReadableStream<Uint8Array>
  return new Response(body, { headers: { ...headers, 'Content-Encoding': encoding } })
}
