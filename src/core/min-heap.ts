/** A binary min-heap: push and pop in O(log n), the smallest by `before` first. */
export class MinHeap<T> {
  private items: T[] = []

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const items = this.items
    items.push(item)
    let at = items.length - 1
    while (at > 0) {
      const parent = (at - 1) >> 1
      if (!this.before(items[at], items[parent])) break
      ;[items[at], items[parent]] = [items[parent], items[at]]
      at = parent
    }
  }

  pop(): T | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      let at = 0
      for (;;) {
        const left = at * 2 + 1
        const right = left + 1
        let least = at
        if (left < items.length && this.before(items[left], items[least])) least = left
        if (right < items.length && this.before(items[right], items[least])) least = right
        if (least === at) break
        ;[items[at], items[least]] = [items[least], items[at]]
        at = least
      }
    }
    return top
  }

  /** Keeps only the items `keep` accepts, in O(n): for heaps whose stale entries are skipped lazily. */
  retain(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep)
    this.items = []
    for (const item of kept) this.push(item)
  }
}
