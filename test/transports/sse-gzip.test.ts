import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { gunzipSync } from 'node:zlib'
import { Batch } from '../../src/core/feed'
import { eventFromRow } from '../../src/core/streams'
import { ConstantBlocks, GzipStream, plainOf, type SseChunk } from '../../src/transports/sse-gzip'

const event = (id: number, text: string) => eventFromRow({ id, stream: 'jobs.1', type: 'log', data: JSON.stringify({ line: text }), timeMs: 0, key: null, correlationId: null })
const HEARTBEAT = new ConstantBlocks(new TextEncoder().encode(': hb\n\n'))

describe('GzipStream', () => {
  test('any mix of shared batches, other text and constant blocks, to several responses in different orders, gunzips to what was written', () => {
    const line = fc.stringMatching(/^[a-z0-9 ]{0,200}$/)
    const step = fc.oneof(
      fc.record({ kind: fc.constant('batch' as const), lines: fc.array(line, { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('text' as const), text: line }),
      fc.record({ kind: fc.constant('heartbeat' as const) }),
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 30 }), (steps, skips) => {
        // One feed's batches, shared by three responses; some skip a step (a heartbeat or a control frame instead), so chains differ.
        let id = 0
        const chunks: SseChunk[] = steps.map((s) =>
          s.kind === 'batch' ? new Batch(s.lines.map((l) => event(++id, l))) : s.kind === 'text' ? new TextEncoder().encode(`: ${s.text}\n\n`) : HEARTBEAT,
        )
        for (let r = 0; r < 3; r++) {
          const gzip = new GzipStream()
          const out: Uint8Array[] = []
          const plain: Uint8Array[] = []
          chunks.forEach((chunk, i) => {
            const written = skips[i] === r ? HEARTBEAT : chunk
            out.push(gzip.encode(written))
            plain.push(plainOf(written))
          })
          out.push(gzip.finish())
          expect(gunzipSync(Buffer.concat(out)).toString()).toBe(Buffer.concat(plain).toString())
        }
      }),
      { numRuns: 150 },
    )
  })

  test('a batch right after the batch before it is compressed against it, once for every response', () => {
    const a = new Batch([event(1, 'compiling module 1 of 40 (src/core/ring.ts) ok')])
    const b = new Batch([event(2, 'compiling module 2 of 40 (src/core/ring.ts) ok')])
    const [x, y] = [new GzipStream(), new GzipStream()]
    x.encode(a)
    y.encode(a)
    const bx = x.encode(b)
    expect(y.encode(b)).toBe(bx) // the same bytes, not a copy
    const alone = new GzipStream()
    alone.encode(HEARTBEAT)
    expect(bx.byteLength).toBeLessThan(alone.encode(b).byteLength)
  })

  test('a response with nothing written still finishes as a valid, empty gzip member', () => {
    expect(gunzipSync(new GzipStream().finish()).length).toBe(0)
  })
})
