/** The waits due in one slot; a wait that ends early takes itself out. */
export type Slot<T> = Set<T>

/**
 * Timeouts for many waits that mostly end before they are due (long-polls): each joins the slot of its due
 * time rounded up to `grainMs`, and one timer per slot fires them all, so starting and ending a wait is a Set
 * add and delete instead of a setTimeout and a clearTimeout. A wait is due up to `grainMs` late, never early.
 */
export class Deadlines<T> {
  private readonly slots = new Map<number, Slot<T>>()

  constructor(
    private readonly grainMs: number,
    private readonly onDue: (item: T) => void,
  ) {}

  /** Calls `onDue(item)` once `ms` have passed, unless the item is deleted from the returned slot first. */
  add(item: T, ms: number): Slot<T> {
    const now = Date.now()
    const due = Math.ceil((now + ms) / this.grainMs) * this.grainMs
    let slot = this.slots.get(due)
    if (!slot) {
      const created = new Set<T>()
      slot = created
      this.slots.set(due, created)
      // A slot outlives the waits that leave it early; it must not hold a stopping process open.
      setTimeout(() => this.fire(due, created), due - now).unref()
    }
    slot.add(item)
    return slot
  }

  private fire(due: number, slot: Slot<T>): void {
    this.slots.delete(due)
    for (const item of slot) this.onDue(item)
  }
}
