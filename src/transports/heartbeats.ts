/** One timer per interval for all connections that share it, instead of one timer per connection. */
export class Heartbeats<T extends { heartbeat(): void }> {
  private readonly groups = new Map<number, { timer: ReturnType<typeof setInterval>; members: Set<T> }>()

  add(intervalMs: number, member: T): void {
    let group = this.groups.get(intervalMs)
    if (!group) {
      const members = new Set<T>()
      const timer = setInterval(() => {
        for (const m of members) m.heartbeat()
      }, intervalMs)
      group = { timer, members }
      this.groups.set(intervalMs, group)
    }
    group.members.add(member)
  }

  remove(intervalMs: number, member: T): void {
    const group = this.groups.get(intervalMs)
    if (!group) return
    group.members.delete(member)
    if (group.members.size === 0) {
      clearInterval(group.timer)
      this.groups.delete(intervalMs)
    }
  }
}
