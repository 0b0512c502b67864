import type { StreamState } from './streams'

/**
 * When each stream next needs retention: a binary heap of due times, so a pass costs what is due,
 * not what exists. A stream is queued once at its earliest due time (`state.dueMs`); entries left
 * behind by an earlier queueing are dropped when they surface. The heap is two parallel arrays,
 * not an object per entry: with a million streams, every object is one more for the GC to mark.
 */
export class RetentionSchedule {
  private readonly at: number[] = []
  private readonly states: StreamState[] = []

  constructor(private readonly isCurrent: (state: StreamState) => boolean) {}

  /** The earliest time queued (possibly a stale entry's), or Infinity. */
  nextDueMs(): number {
    return this.at.length > 0 ? this.at[0] : Number.POSITIVE_INFINITY
  }

  /** Makes sure the stream is looked at no later than `atMs` (Infinity: not until queued again). */
  queue(state: StreamState, atMs: number): void {
    if (state.dueMs <= atMs) return
    state.dueMs = atMs
    this.push(atMs, state)
  }

  /** Streams due by `nowMs`, earliest first, each once, at most `limit`; they leave the schedule until queued again. */
  takeDue(nowMs: number, limit: number): StreamState[] {
    const due: StreamState[] = []
    while (due.length < limit && this.at.length > 0 && this.at[0] <= nowMs) {
      const atMs = this.at[0]
      const state = this.pop()
      // Stale: the stream was queued earlier since (and handed out), or deleted.
      if (state.dueMs !== atMs || !this.isCurrent(state)) continue
      state.dueMs = Number.POSITIVE_INFINITY
      due.push(state)
    }
    return due
  }

  private push(atMs: number, state: StreamState): void {
    let i = this.at.length
    this.at.push(atMs)
    this.states.push(state)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.at[parent] <= atMs) break
      this.move(parent, i)
      i = parent
    }
    this.at[i] = atMs
    this.states[i] = state
  }

  private pop(): StreamState {
    const top = this.states[0]
    const lastAt = this.at.pop()!
    const last = this.states.pop()!
    const n = this.at.length
    if (n === 0) return top
    let i = 0
    for (;;) {
      const left = i * 2 + 1
      if (left >= n) break
      const child = left + 1 < n && this.at[left + 1] < this.at[left] ? left + 1 : left
      if (this.at[child] >= lastAt) break
      this.move(child, i)
      i = child
    }
    this.at[i] = lastAt
    this.states[i] = last
    return top
  }

  private move(from: number, to: number): void {
    this.at[to] = this.at[from]
    this.states[to] = this.states[from]
  }
}
