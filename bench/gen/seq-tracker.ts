/** Per (subscriber, stream) delivery check: a bitmap of seen `seq`s gives loss and duplicates (order is checked on server ids). */
export class SeqTracker {
  private seen = new Uint8Array(1024)
  received = 0
  duplicates = 0
  maxSeq = 0
  /** Every seq ≤ this has been received: the subscriber's gap-free position. */
  contiguous = 0

  record(seq: number): void {
    if (seq >= this.seen.length * 8) this.grow(seq)
    const byte = seq >> 3, bit = 1 << (seq & 7)
    if (this.seen[byte] & bit) { this.duplicates++; return }
    this.seen[byte] |= bit
    this.received++
    if (seq > this.maxSeq) this.maxSeq = seq
    while (this.has(this.contiguous + 1)) this.contiguous++
  }

  /** How many of seqs 1..published were never received. */
  missing(published: number): number {
    let n = 0
    for (let s = 1; s <= published; s++) if (!this.has(s)) n++
    return n
  }

  private has(seq: number): boolean {
    const byte = seq >> 3
    return byte < this.seen.length && (this.seen[byte] & (1 << (seq & 7))) !== 0
  }

  private grow(seq: number): void {
    let size = this.seen.length
    while (seq >= size * 8) size *= 2
    const next = new Uint8Array(size)
    next.set(this.seen)
    this.seen = next
  }
}
