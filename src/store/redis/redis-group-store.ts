import type { RedisClient } from 'bun'
import type { GroupConfig } from '../../groups/group-log'
import type { ClaimOutcome, ClaimRequest, GroupPut, HandedOut, PutOutcome, SettleOp, SettleOutcome, SharedGroupStore, StoredGroup, StoredStats, Upkeep } from '../../groups/shared/group-store'
import { FORGET_MS } from '../../groups/group-stats'
import { connectRedis, isConnectionError, Scripts, unavailable } from './connection'
import { DELETE, PUT, STATS } from './group-admin-scripts'
import { CLAIM, DROP, RELEASE, SETTLE, TICK } from './group-scripts'

export interface RedisGroupStoreOptions {
  url: string
  /** Entries of rc:log kept (as RedisLog keeps them): group scripts add their signals there. */
  logEntries?: number
  /** How long a node has to publish a dead letter it found before another node takes it over. */
  buryLeaseMs?: number
}

type Raw = [number, string, number, number, string]
type UpkeepJson = { d: Raw[] | Record<string, never>; n: number | false; t: number }

/** Lua's cjson writes an empty table as {}: an array either way. */
const list = <T>(value: T[] | Record<string, never> | undefined): T[] => (Array.isArray(value) ? value : [])

/** Consumer groups' state in Redis, shared by every node; each operation is one atomic Lua script. */
export class RedisGroupStore implements SharedGroupStore {
  private readonly client: RedisClient
  private readonly scripts: Scripts
  private readonly buryLeaseMs: string
  private readonly keep: string

  constructor(options: RedisGroupStoreOptions) {
    this.client = connectRedis(options.url)
    this.scripts = new Scripts(this.client)
    this.buryLeaseMs = String(options.buryLeaseMs ?? 10_000)
    this.keep = String(options.logEntries ?? 200_000)
  }

  async groups(): Promise<StoredGroup[]> {
    if (!this.client.connected) await this.call(() => this.client.connect())
    const all = (await this.call(() => this.client.send('HGETALL', ['rc:groups']))) as Record<string, string>
    return Object.entries(all).map(([name, raw]) => storedGroup(name, raw))
  }

  async group(name: string): Promise<StoredGroup | null> {
    const raw = await this.call(() => this.client.send('HGET', ['rc:groups', name]))
    return raw === null ? null : storedGroup(name, String(raw))
  }

  async put(name: string, put: GroupPut): Promise<PutOutcome> {
    const r = (await this.run(PUT, name, [JSON.stringify(put.change), put.create ? JSON.stringify(put.create) : ''])) as { x?: string; last?: number; c: GroupConfig; v: string; new: boolean }
    if (r.x === 'missing') return { kind: 'missing' }
    if (r.x === 'start') return { kind: 'start_after_last', lastId: r.last ?? 0 }
    return { kind: 'put', group: { name, config: configOf(r.c), version: r.v }, isNew: r.new }
  }

  async delete(name: string): Promise<boolean> {
    return Number(await this.call(() => this.scripts.run(DELETE, this.common(name)))) === 1
  }

  async claim(name: string, q: ClaimRequest): Promise<ClaimOutcome> {
    const args = [q.consumer, String(q.max), q.version, String(q.cursor), String(q.end), String(q.gap?.after ?? 0), String(q.gap?.firstId ?? 0), q.held.map(([id, attempt]) => `${id}:${attempt}`).join(',')]
    for (const p of q.proposals) args.push(String(p.id), p.stream)
    const r = (await this.run(CLAIM, name, args)) as UpkeepJson & { x?: string; o: Raw[]; c: number; m: boolean; g: number[]; r: number }
    if (r.x === 'missing' || r.x === 'stale') return { kind: r.x }
    return { kind: 'claimed', deliveries: list(r.o).map(handedOut), cursor: r.c, isMoved: r.m, gone: list(r.g), ready: r.r, ...upkeep(r) }
  }

  async settle(name: string, consumer: string | null, ids: readonly number[], op: SettleOp): Promise<SettleOutcome> {
    const arg = op.op === 'nack' ? String(Math.round(op.delayMs)) : op.op === 'term' ? op.reason : ''
    const r = (await this.run(SETTLE, name, [op.op, consumer ?? '', arg, ...ids.map(String)])) as UpkeepJson & { x?: string; ok: number[]; h: number[]; dl: number }
    if (r.x === 'missing') return { kind: 'missing' }
    return { kind: 'settled', ok: list(r.ok), notHeld: list(r.h), deadlineMs: r.dl, ...upkeep(r) }
  }

  async release(name: string, consumer: string, held: readonly [number, number][]): Promise<Upkeep | null> {
    const r = (await this.run(RELEASE, name, [consumer, held.map(([id, attempt]) => `${id}:${attempt}`).join(',')])) as UpkeepJson & { x?: string }
    return r.x ? null : upkeep(r)
  }

  async tick(name: string): Promise<Upkeep | null> {
    const r = (await this.run(TICK, name, [])) as UpkeepJson & { x?: string }
    return r.x ? null : upkeep(r)
  }

  async buried(name: string, createdMs: number, ids: readonly number[]): Promise<void> {
    await this.drop(name, createdMs, 'buried', ids)
  }

  async forget(name: string, createdMs: number, ids: readonly number[]): Promise<void> {
    await this.drop(name, createdMs, 'lost', ids)
  }

  async stats(name: string): Promise<StoredStats | null> {
    const raw = await this.call(() => this.scripts.run(STATS, [...this.common(name), String(FORGET_MS)]))
    if (raw === null) return null
    const r = JSON.parse(String(raw)) as { g: string; m: (string | false)[]; u: number; c: Record<string, number>; s: Record<string, number>; a: number }
    const n = (i: number) => Number(r.m[i] || 0)
    return {
      group: storedGroup(name, r.g),
      cursor: n(0),
      counters: { acks: n(1), redeliveries: n(2), deadLetters: n(3), gaps: n(4), lastGap: r.m[6] ? { after: n(5), firstId: n(6), timeMs: n(7) } : null },
      held: n(8),
      fresh: n(9),
      read: n(10),
      unsettled: r.u,
      holders: r.c,
      seen: r.s,
      acksLast10s: r.a,
    }
  }

  async close(): Promise<void> {
    this.client.close()
  }

  private async drop(name: string, createdMs: number, why: 'buried' | 'lost', ids: readonly number[]): Promise<void> {
    await this.call(() => this.scripts.run(DROP, [...this.common(name), String(createdMs), why, ...[...ids].sort((a, b) => a - b).map(String)]))
  }

  private common(name: string): string[] {
    return [name, this.buryLeaseMs, this.keep]
  }

  private async run(script: string, name: string, args: string[]): Promise<unknown> {
    return JSON.parse(String(await this.call(() => this.scripts.run(script, [...this.common(name), ...args]))))
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

function handedOut([id, stream, attempt, deadlineMs, reason]: Raw): HandedOut {
  return { id, stream, attempt, deadlineMs, reason }
}

function upkeep(r: UpkeepJson): Upkeep {
  return { dead: list(r.d).map(handedOut), nextDueMs: r.n === false ? null : r.n, nowMs: r.t }
}

function storedGroup(name: string, raw: string): StoredGroup {
  const { c, v } = JSON.parse(raw) as { c: GroupConfig; v: string }
  return { name, config: configOf(c), version: v }
}

/** A config as cjson wrote it: nulls may be missing. */
function configOf(c: Partial<GroupConfig>): GroupConfig {
  return {
    streams: c.streams ?? [],
    types: Array.isArray(c.types) && c.types.length > 0 ? c.types : null,
    start: c.start ?? 'latest',
    ackTimeoutSec: c.ackTimeoutSec ?? 30,
    maxDeliveries: c.maxDeliveries ?? 5,
    ordering: c.ordering ?? 'none',
    createdMs: c.createdMs ?? 0,
    gapFloor: c.gapFloor ?? 0,
  }
}
