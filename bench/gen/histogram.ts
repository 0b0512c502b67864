/** Latency histogram in microseconds: log-linear buckets (≤1.6 % error), mergeable across processes. */
export class Histogram {
  counts = new Float64Array(1800)
  count = 0
  maxUs = 0

  recordMs(ms: number): void {
    const us = ms <= 0 ? 0 : Math.round(ms * 1000)
    this.counts[bucketOf(us)]++
    this.count++
    if (us > this.maxUs) this.maxUs = us
  }

  merge(other: HistogramJson): void {
    for (const [i, n] of other.buckets) this.counts[i] += n
    this.count += other.count
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs
  }

  /** Value in ms at quantile q (0..1); the bucket's upper bound, so never flattering. */
  quantileMs(q: number): number {
    if (this.count === 0) return NaN
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(upperOf(i), this.maxUs) / 1000
    }
    return this.maxUs / 1000
  }

  toJSON(): HistogramJson {
    const buckets: [number, number][] = []
    this.counts.forEach((n, i) => { if (n) buckets.push([i, n]) })
    return { buckets, count: this.count, maxUs: this.maxUs }
  }
}

export interface HistogramJson { buckets: [number, number][]; count: number; maxUs: number }

// Exact below 128 µs, then 64 sub-buckets per power of two.
function bucketOf(us: number): number {
  if (us < 128) return us
  const msb = 31 - Math.clz32(Math.min(us, 2 ** 31 - 1))
  const shift = msb - 6
  return 128 + (shift - 1) * 64 + ((us >> shift) - 64)
}

function upperOf(i: number): number {
  if (i < 128) return i
  const shift = Math.floor((i - 128) / 64) + 1
  const sub = (i - 128) % 64 + 64
  return ((sub + 1) << shift) - 1
}
