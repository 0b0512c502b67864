import type { Database, Statement } from 'bun:sqlite'
import type { DeliveryRecord, GroupLog, GroupRecord, GroupWrite } from '../groups/group-log'

/** The GroupLog on the SqliteLog's own database (same file, same WAL, same lock). */
export class SqliteGroupLog implements GroupLog {
  private readonly upsertGroup: Statement
  private readonly updateGroup: Statement
  private readonly upsertDelivery: Statement
  private readonly removeDelivery: Statement
  private readonly writeTx: (change: GroupWrite) => void

  constructor(private readonly db: Database) {
    this.upsertGroup = db.prepare('INSERT OR REPLACE INTO groups (name, config, cursor, counters) VALUES (?, ?, ?, ?)')
    this.updateGroup = db.prepare('UPDATE groups SET cursor = ?, counters = ? WHERE name = ?')
    this.upsertDelivery = db.prepare(
      `INSERT OR REPLACE INTO group_deliveries (group_name, id, stream, consumer, attempt, deadline, reason, dead)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.removeDelivery = db.prepare('DELETE FROM group_deliveries WHERE group_name = ? AND id = ?')
    this.writeTx = db.transaction((c: GroupWrite) => {
      this.updateGroup.run(c.cursor, JSON.stringify(c.counters), c.group)
      for (const d of c.upsert) this.upsertDelivery.run(c.group, d.id, d.stream, d.consumer, d.attempt, d.deadlineMs, d.reason, d.isDead ? 1 : 0)
      for (const id of c.remove) this.removeDelivery.run(c.group, id)
    })
  }

  groups(): GroupRecord[] {
    const rows = this.db.query('SELECT name, config, cursor, counters FROM groups ORDER BY name').all() as { name: string; config: string; cursor: number; counters: string }[]
    return rows.map((r) => ({ name: r.name, config: JSON.parse(r.config), cursor: r.cursor, counters: JSON.parse(r.counters) }))
  }

  deliveries(group: string): DeliveryRecord[] {
    const rows = this.db
      .query('SELECT id, stream, consumer, attempt, deadline, reason, dead FROM group_deliveries WHERE group_name = ? ORDER BY id')
      .all(group) as { id: number; stream: string; consumer: string | null; attempt: number; deadline: number; reason: string | null; dead: number }[]
    return rows.map((r) => ({ id: r.id, stream: r.stream, consumer: r.consumer, attempt: r.attempt, deadlineMs: r.deadline, reason: r.reason, isDead: r.dead === 1 }))
  }

  saveGroup(record: GroupRecord): void {
    this.upsertGroup.run(record.name, JSON.stringify(record.config), record.cursor, JSON.stringify(record.counters))
  }

  deleteGroup(name: string): void {
    this.db.transaction(() => {
      this.db.query('DELETE FROM group_deliveries WHERE group_name = ?').run(name)
      this.db.query('DELETE FROM groups WHERE name = ?').run(name)
    })()
  }

  write(change: GroupWrite): void {
    this.writeTx(change)
  }

  /** Prepared statements keep the database open in bun:sqlite; call before the SqliteLog closes. */
  close(): void {
    for (const s of [this.upsertGroup, this.updateGroup, this.upsertDelivery, this.removeDelivery]) s.finalize()
  }
}
