import { constants, crc32, deflateRawSync } from 'node:zlib'
import { Batch } from '../core/feed'

// A gzip member is a header, deflate blocks, and a trailer (CRC-32 and length of the plain bytes).
// Deflate blocks ended by a sync flush are byte-aligned and never final, so blocks compressed on
// their own can follow one another: each batch is compressed once and the bytes shared by every
// response it goes to; only the CRC and length are per response.

const HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)
// An empty final block (fixed Huffman codes): what ends the deflate stream before the trailer.
const FINAL = Uint8Array.of(3, 0)
const LEVEL = 6

/** Deflate blocks for `plain`, sync-flushed; with `previous`, they may refer back to those bytes, which must come just before. */
export function deflateBlocks(plain: Uint8Array, previous?: Uint8Array): Uint8Array {
  return deflateRawSync(plain, { level: LEVEL, finishFlush: constants.Z_SYNC_FLUSH, ...(previous && { dictionary: previous }) })
}

/** A batch's blocks, built on first use: alone, and after the one batch most of its responses got just before it. */
interface Frames {
  alone?: Uint8Array
  after?: Batch
  chained?: Uint8Array
}

const framesOf = new WeakMap<Batch, Frames>()

/** What an SSE response writes: a batch's frames, other SSE text, or text whose blocks are built once. */
export type SseChunk = Batch | Uint8Array | ConstantBlocks

/** The chunk's plain bytes. */
export function plainOf(chunk: SseChunk): Uint8Array {
  return chunk instanceof Batch ? chunk.sse : chunk instanceof ConstantBlocks ? chunk.plain : chunk
}

/** Blocks built once for bytes many responses send (the opening, heartbeats, the common end events). */
export class ConstantBlocks {
  readonly blocks: Uint8Array

  constructor(readonly plain: Uint8Array) {
    this.blocks = deflateBlocks(plain)
  }
}

/**
 * One SSE response's gzip stream. Call in the order the bytes go out; a batch right after the batch
 * before it in its feed is compressed against it (events of one stream look alike), sharing those bytes too.
 */
export class GzipStream {
  private crc = 0
  private size = 0
  private isStarted = false
  /** The batch whose bytes end the stream so far, if a batch does. */
  private last: Batch | undefined

  /** The bytes to write for a chunk of SSE text. */
  encode(chunk: SseChunk): Uint8Array {
    return chunk instanceof Batch ? this.batch(chunk) : this.bytes(chunk)
  }

  private batch(batch: Batch): Uint8Array {
    let frames = framesOf.get(batch)
    if (!frames) framesOf.set(batch, (frames = {}))
    const previous = this.last
    let blocks: Uint8Array
    if (previous && (frames.after === undefined || frames.after === previous)) {
      frames.after = previous
      blocks = frames.chained ??= deflateBlocks(batch.sse, previous.sse)
    } else blocks = frames.alone ??= deflateBlocks(batch.sse)
    this.add(batch.sse)
    this.last = batch
    return this.started(blocks)
  }

  private bytes(plain: Uint8Array | ConstantBlocks): Uint8Array {
    const isConstant = plain instanceof ConstantBlocks
    const blocks = isConstant ? plain.blocks : deflateBlocks(plain)
    this.add(isConstant ? plain.plain : plain)
    this.last = undefined
    return this.started(blocks)
  }

  /** The final bytes: an empty last block and the trailer. Nothing may follow. */
  finish(): Uint8Array {
    const out = new Uint8Array((this.isStarted ? 0 : HEADER.length) + FINAL.length + 8)
    let at = 0
    if (!this.isStarted) {
      out.set(HEADER)
      at = HEADER.length
    }
    out.set(FINAL, at)
    const view = new DataView(out.buffer)
    view.setUint32(at + FINAL.length, this.crc, true)
    view.setUint32(at + FINAL.length + 4, this.size, true)
    this.isStarted = true
    return out
  }

  private add(plain: Uint8Array): void {
    this.crc = crc32(plain, this.crc)
    this.size = (this.size + plain.byteLength) >>> 0
  }

  private started(blocks: Uint8Array): Uint8Array {
    if (this.isStarted) return blocks
    this.isStarted = true
    const out = new Uint8Array(HEADER.length + blocks.byteLength)
    out.set(HEADER)
    out.set(blocks, HEADER.length)
    return out
  }
}
