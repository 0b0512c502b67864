import type { Change, LogRow, StreamRecord, StreamStats } from '../../core/log'

/** A Redis stream entry as Bun's client gives it: id and a flat list of field, value. */
export type Entry = [string, string[]]

/** The id part of an entry id "<id>-<n>". */
export function idOf(entryId: string): number {
  return Number(entryId.slice(0, entryId.indexOf('-')))
}

function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1]
  return out
}

/** An entry of a stream's history (or an event entry of rc:log) as a row. */
export function rowOf([entryId, flat]: Entry, stream?: string): LogRow {
  const f = fieldsOf(flat)
  return { id: idOf(entryId), stream: stream ?? f.s, type: f.t, data: f.d, timeMs: Number(f.ms), key: f.key ?? null, correlationId: f.c ?? null }
}

/** A record as Lua's cjson wrote it: nulls may be missing. */
export function recordOf(json: string): StreamRecord {
  const r = JSON.parse(json) as Partial<StreamRecord> & { name: string }
  return { name: r.name, ringSize: r.ringSize ?? null, maxEvents: r.maxEvents ?? null, maxAgeSeconds: r.maxAgeSeconds ?? null, ephemeral: r.ephemeral === true, closed: r.closed === true, prunedThrough: r.prunedThrough ?? 0 }
}

/** The prune result the PRUNE script writes, as the change every node applies. */
export function pruneOf(stream: string, json: string): Change {
  const p = JSON.parse(json) as { removed: number; through: number; events: number; first: string | false; firstMs: string | false; last: string | false }
  const stats: StreamStats = { events: p.events, firstId: p.first ? idOf(p.first) : null, lastId: p.last ? idOf(p.last) : null, firstTimeMs: p.firstMs ? Number(p.firstMs) : null }
  return { kind: 'prune', stream, throughId: p.through, removed: p.removed, stats }
}

/** The rc:log entry a script writes when it finds Redis lost acknowledged writes. */
export function isLossMark([, flat]: Entry): boolean {
  return flat[0] === 'k' && flat[1] === 'l'
}

/** An rc:log entry as the change it records. */
export function changeOf(entry: Entry): Change {
  const f = fieldsOf(entry[1])
  switch (f.k) {
    case 'e':
      return { kind: 'event', row: rowOf(entry) }
    case 'r':
      return { kind: 'stream', record: recordOf(f.v) }
    case 'x':
      return { kind: 'delete', stream: f.v }
    case 'g':
      return { kind: 'signal', name: f.v }
    default:
      return pruneOf(f.s, f.v)
  }
}
