import type { RedisClient } from 'bun'
import { randomUUID } from 'node:crypto'
import { RingcastError } from '../../core/errors'
import type { Appended, Catalog, Change, EventLog, FollowHandlers, ItemOutcome, LogHealth, LogRow, Outcome, Prunable, RowFilter, SharedLog, Write } from '../../core/log'
import { connectRedis, isConnectionError, Scripts, unavailable } from './connection'
import { changeOf, type Entry, idOf, isLossMark, pruneOf, recordOf, rowOf } from './entries'
import { type Page, pagedMerge } from './paged-merge'
import { APPEND, LEASE_PRUNER, PRUNE, SNAPSHOT } from './scripts'

export interface RedisLogOptions {
  url: string
  /** Entries of rc:log kept for followers that fall behind (trimmed approximately). */
  logEntries?: number
}

type Script = { o: Record<string, RawOutcome> | RawOutcome[]; c: unknown[] | Record<string, never>; p: string }
type RawOutcome = { k: 'pub'; items: [number, number][] | Record<string, never> } | { k: 'done' } | { k: 'closed' } | { k: 'missing' }

/** Lua's cjson writes an empty table as {}: an array either way. */
const list = <T>(value: T[] | Record<string, never>): T[] => (Array.isArray(value) ? value : [])

/**
 * The event log in Redis, shared by every node: ids, history, dedup keys and stream records live
 * there, and each append (one group commit) is one atomic Lua call. Every node follows rc:log to
 * apply the cluster's changes, its own included, in one order.
 */
export class RedisLog implements EventLog, SharedLog, Prunable, LogHealth {
  private readonly client: RedisClient
  private readonly scripts: Scripts
  private readonly keep: string
  private epoch = ''
  /** The highest id this node saw issued: Redis holding a lower sequence means it lost writes. */
  private seen = 0
  private readonly node = randomUUID()

  constructor(private readonly options: RedisLogOptions) {
    this.client = connectRedis(options.url)
    this.scripts = new Scripts(this.client)
    this.keep = String(options.logEntries ?? 200_000)
  }

  async open(floor = 0): Promise<Catalog> {
    if (!this.client.connected) await this.client.connect()
    const snap = JSON.parse(String(await this.call(() => this.scripts.run(SNAPSHOT, [randomUUID(), String(floor)])))) as {
      seq: string
      epoch: string
      position: string
      streams: [string, number, string | false, string | false, string | false][] | Record<string, never>
    }
    this.epoch = snap.epoch
    this.seen = Number(snap.seq)
    return {
      lastId: Number(snap.seq),
      position: snap.position,
      streams: list(snap.streams).map(([json, events, first, last, firstMs]) => ({
        record: recordOf(json),
        stats: { events, firstId: first ? idOf(first) : null, lastId: last ? idOf(last) : null, firstTimeMs: firstMs ? Number(firstMs) : null },
      })),
    }
  }

  async append(writes: readonly Write[], timeMs: number, dedupSinceMs: number): Promise<Appended> {
    const payload = writes.map((w) => (w.kind === 'publish' ? { ...w, items: w.items.map((i) => ({ ...i, terminal: i.terminal === true })) } : w))
    const result = JSON.parse(String(await this.call(() => this.scripts.run(APPEND, [JSON.stringify(payload), String(timeMs), String(dedupSinceMs), this.keep, this.epoch, String(this.seen), randomUUID()])))) as Script | { lost: true }
    if ('lost' in result) throw new RingcastError('unavailable', 'Redis no longer holds the data this node followed; the node is reloading.', 'Retry in a moment.', { retryAfter: 1 })
    const raw = Array.isArray(result.o) ? result.o : writes.map((_, i) => (result.o as Record<string, RawOutcome>)[String(i + 1)])
    const outcomes: Outcome[] = raw.map((o, i) => {
      if (o.k === 'pub') return { kind: 'published', items: list(o.items).map(([id, dup]): ItemOutcome => ({ id, duplicate: dup === 1 })) }
      if (o.k === 'closed') return { kind: 'refused', error: new RingcastError('stream_closed', `Stream "${writes[i].stream}" is closed.`, 'A closed stream takes no more events; publish to a new stream.') }
      if (o.k === 'missing') return { kind: 'refused', error: new RingcastError('not_found', `No stream "${writes[i].stream}".`) }
      return { kind: 'done' }
    })
    const changes = list(result.c as unknown[]).map((c) => this.change(c as [string, ...unknown[]], writes, timeMs))
    for (const change of changes) if (change.kind === 'event') this.seen = Math.max(this.seen, change.row.id)
    return { outcomes, changes, ...(result.p && { position: result.p }) }
  }

  async read(streams: readonly string[], afterId: number, limit: number, where: RowFilter | null): Promise<LogRow[]> {
    return pagedMerge(streams, limit, `${afterId + 1}-0`, (s, from, count) => this.page('XRANGE', s, from, '+', count, where), (a, b) => a.id < b.id)
  }

  async tail(streams: readonly string[], limit: number, where: RowFilter | null, beforeId?: number): Promise<LogRow[]> {
    const start = beforeId === undefined ? '+' : `(${beforeId}-0`
    return (await pagedMerge(streams, limit, start, (s, from, count) => this.page('XREVRANGE', s, from, '-', count, where), (a, b) => a.id > b.id)).reverse()
  }

  async positionAt(streams: readonly string[], timeMs: number): Promise<number> {
    let position = await this.head()
    for (const stream of streams) {
      // Walks back from the newest: `since=` asks for recent history far more often than old.
      let first: number | undefined
      for (let from = '+'; ; ) {
        const page = await this.page('XREVRANGE', stream, from, '-', 500, null)
        const older = page.rows.findIndex((row) => row.timeMs < timeMs)
        const newer = older < 0 ? page.rows : page.rows.slice(0, older)
        if (newer.length > 0) first = newer[newer.length - 1].id
        if (older >= 0 || page.isLast) break
        from = page.next
      }
      if (first !== undefined && first - 1 < position) position = first - 1
    }
    return position
  }

  async get(stream: string, ids: readonly number[]): Promise<LogRow[]> {
    const pages = await Promise.all(ids.map((id) => this.call(() => this.client.send('XRANGE', [`rc:s:${stream}`, `${id}-0`, `${id}-0`])) as Promise<Entry[]>))
    return pages.flat().map((e) => rowOf(e, stream)).sort((a, b) => a.id - b.id)
  }

  async head(): Promise<number> {
    return Number((await this.call(() => this.client.send('GET', ['rc:seq']))) ?? 0)
  }

  async prune(stream: string, keep: number, beforeMs: number, batch: number, belowId: number): Promise<Change | null> {
    const result = await this.call(() => this.scripts.run(PRUNE, [stream, String(keep), String(beforeMs), String(batch), String(belowId), this.keep]))
    return result ? pruneOf(stream, String(result)) : null
  }

  async mayPrune(): Promise<boolean> {
    // Longer than a few retention passes, so the holder keeps it while alive and another takes over after it dies.
    return (await this.call(() => this.scripts.run(LEASE_PRUNER, [this.node, '5000']))) === 1
  }

  async pruneKeys(): Promise<number> {
    // Dedup keys expire by themselves (PX the window).
    return 0
  }

  async isWritable(): Promise<boolean> {
    try {
      await this.client.send('PING', [])
      return true
    } catch {
      return false
    }
  }

  sizeBytes(): number {
    return 0
  }

  /** What in Redis's configuration breaks the promise of a durable acknowledgement, one line each. */
  async durabilityWarnings(): Promise<string[]> {
    const config = (await this.client.send('CONFIG', ['GET', '*'])) as Record<string, string>
    const warnings: string[] = []
    if (config.appendonly !== 'yes') warnings.push('Redis runs without AOF (appendonly no): acknowledged events are lost if Redis restarts; set appendonly yes')
    else if (config.appendfsync === 'no') warnings.push('Redis AOF is never fsynced (appendfsync no): a power loss can take acknowledged events; use everysec or always')
    if (config['maxmemory-policy'] !== 'noeviction') warnings.push(`Redis may evict keys (maxmemory-policy ${config['maxmemory-policy']}): history and dedup keys can vanish; set maxmemory-policy noeviction`)
    return warnings
  }

  follow(position: string, handlers: FollowHandlers): { stop(): void } {
    let isStopped = false
    const run = async () => {
      // A blocking read holds its connection: the follower has its own.
      const tail = await this.client.duplicate()
      let from = position
      let isAway = false
      try {
        while (!isStopped) {
          let entries: Entry[]
          try {
            const reply = (await tail.send('XREAD', ['BLOCK', '2000', 'COUNT', '1000', 'STREAMS', 'rc:log', from])) as Record<string, Entry[]> | null
            entries = reply?.['rc:log'] ?? []
            // Quiet, or back after Redis was away: it must still hold the data this node followed.
            if (entries.length === 0 && (await tail.send('GET', ['rc:epoch'])) !== this.epoch) return handlers.lost('Redis no longer holds the data this node followed (its epoch changed)')
          } catch (error) {
            if (isStopped || !isConnectionError(error)) throw error
            if (!isAway) handlers.reachable(false, (error as Error)?.message ?? String(error))
            isAway = true
            await Bun.sleep(200)
            continue
          }
          if (isAway) handlers.reachable(true, 'answering again')
          isAway = false
          if (entries.length === 0) continue
          if (entries.some(isLossMark)) return handlers.lost('Redis lost writes the cluster had acknowledged (a failover, or a restart from an AOF missing its last writes)')
          from = entries[entries.length - 1][0]
          const changes = entries.map(changeOf)
          for (const change of changes) if (change.kind === 'event') this.seen = Math.max(this.seen, change.row.id)
          handlers.changes(changes, from)
        }
      } finally {
        tail.close()
      }
    }
    run().catch((error) => {
      if (!isStopped) handlers.lost(`following rc:log failed: ${(error as Error)?.message ?? error}`)
    })
    return { stop: () => (isStopped = true) }
  }

  async close(): Promise<void> {
    this.client.close()
  }

  private change(c: [string, ...unknown[]], writes: readonly Write[], timeMs: number): Change {
    if (c[0] === 'r') return { kind: 'stream', record: recordOf(String(c[1])) }
    if (c[0] === 'x') return { kind: 'delete', stream: String(c[1]) }
    const [, id, w, i] = c as [string, number, number, number]
    const write = writes[w - 1] as Write & { kind: 'publish' }
    const item = write.items[i - 1]
    return { kind: 'event', row: { id, stream: write.stream, type: item.type, data: item.data, timeMs, key: item.key ?? null, correlationId: item.correlationId ?? null } }
  }

  /** One page of a stream's history from `from` towards `to`, the rows matching `where`. */
  private async page(command: 'XRANGE' | 'XREVRANGE', stream: string, from: string, to: string, count: number, where: RowFilter | null): Promise<Page> {
    const entries = (await this.call(() => this.client.send(command, [`rc:s:${stream}`, from, to, 'COUNT', String(count)]))) as Entry[]
    const rows: LogRow[] = []
    for (const entry of entries) {
      const row = rowOf(entry, stream)
      if (matches(row, where)) rows.push(row)
    }
    const last = entries.at(-1)
    return { rows, next: last ? `(${last[0]}` : from, isLast: entries.length < count }
  }

  /** A command, with Redis being away turned into 503 `unavailable`. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (error) {
      throw isConnectionError(error) ? unavailable(error) : error
    }
  }
}

function matches(row: LogRow, where: RowFilter | null): boolean {
  if (!where) return true
  if (where.types && !where.types.includes(row.type)) return false
  return where.correlationId === null || row.correlationId === where.correlationId
}
