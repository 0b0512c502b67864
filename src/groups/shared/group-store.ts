import type { GroupConfig, GroupCounters } from '../group-log'

// The port through which groups shared by several nodes keep their state (store/redis/RedisGroupStore
// implements it). Every operation is atomic for every node, and times are the store's own clock.

/** A group's settings as stored, with the version they were written under (any change gives a new one). */
export interface StoredGroup {
  name: string
  config: GroupConfig
  version: string
}

/** A delivery the store handed out, or found dead: which event, which attempt, until when (store time, ms). */
export interface HandedOut {
  id: number
  stream: string
  attempt: number
  deadlineMs: number
  reason: string
}

/** What a node asks of a claim: released deliveries first, then the new matching events it read after `cursor`. */
export interface ClaimRequest {
  consumer: string
  /** Most deliveries to hand out; a push consumer's `max`, of which `held` already uses some. */
  max: number
  /** The config version the proposals were read under. */
  version: string
  /** The cursor the node read from: proposals are taken only if it is still the group's. */
  cursor: number
  /** Matching events after `cursor`, in id order. */
  proposals: { id: number; stream: string }[]
  /** Everything matching up to here is in `proposals`: the cursor may move here when all are taken. */
  end: number
  /** Retention removed matching events after `cursor` before the group read them. */
  gap?: { after: number; firstId: number }
  /** A push consumer's deliveries as it knows them (id, attempt): those it no longer holds come back in `gone`. */
  held: [number, number][]
}

/** Work the store found dead (last attempt failed, or terminated) and the time the group next needs a look. */
export interface Upkeep {
  dead: HandedOut[]
  /** When a lease or a delayed release next comes due (store time), or null. */
  nextDueMs: number | null
  /** The store's clock when it answered. */
  nowMs: number
}

export type ClaimOutcome =
  | { kind: 'missing' }
  | { kind: 'stale' }
  | (Upkeep & {
      kind: 'claimed'
      deliveries: HandedOut[]
      /** The group's cursor after the claim. */
      cursor: number
      /** The cursor was not the node's: nothing proposed was taken; read again from `cursor`. */
      isMoved: boolean
      /** Ids of `held` the consumer no longer holds (settled elsewhere, or past their deadline). */
      gone: number[]
      /** Deliveries nobody holds that wait to go (some perhaps behind their stream). */
      ready: number
    })

export type SettleOp = { op: 'ack' } | { op: 'nack'; delayMs: number } | { op: 'extend' } | { op: 'term'; reason: string }

export type SettleOutcome = { kind: 'missing' } | (Upkeep & { kind: 'settled'; ok: number[]; notHeld: number[]; deadlineMs: number })

/** A PUT: the fields to change, and the whole config for a group that does not exist yet (none when `streams` was not given). */
export interface GroupPut {
  change: Partial<Omit<GroupConfig, 'createdMs' | 'start' | 'gapFloor'>>
  create?: Omit<GroupConfig, 'createdMs'>
}

export type PutOutcome = { kind: 'put'; group: StoredGroup; isNew: boolean } | { kind: 'missing' } | { kind: 'start_after_last'; lastId: number }

/** The counters and leases of a group, read at one instant. */
export interface StoredStats {
  group: StoredGroup
  cursor: number
  counters: GroupCounters
  /** Unsettled deliveries, those never delivered included. */
  unsettled: number
  /** Read but never delivered (waiting behind their stream). */
  fresh: number
  held: number
  /** Matching events the group has read since it was created. */
  read: number
  /** Held count by consumer. */
  holders: Record<string, number>
  /** Last seen (store time) by consumer. */
  seen: Record<string, number>
  acksLast10s: number
}

/** A store of groups shared by nodes. */
export interface SharedGroupStore {
  groups(): Promise<StoredGroup[]>
  group(name: string): Promise<StoredGroup | null>
  put(name: string, put: GroupPut): Promise<PutOutcome>
  delete(name: string): Promise<boolean>
  claim(name: string, request: ClaimRequest): Promise<ClaimOutcome>
  settle(name: string, consumer: string | null, ids: readonly number[], op: SettleOp): Promise<SettleOutcome>
  /** A push consumer is gone: what it still holds (id, attempt) comes back at once, attempt counted. */
  release(name: string, consumer: string, held: readonly [number, number][]): Promise<Upkeep | null>
  /** Expires leases past their deadline and hands back dead deliveries whose burial no node finished. */
  tick(name: string): Promise<Upkeep | null>
  /** The dead letters are in the DLQ stream: settle them (only in the incarnation `createdMs`). */
  buried(name: string, createdMs: number, ids: readonly number[]): Promise<void>
  /** The events of these deliveries are gone (stream deleted, ephemeral): settle them and count a gap. */
  forget(name: string, createdMs: number, ids: readonly number[]): Promise<void>
  stats(name: string): Promise<StoredStats | null>
  close(): Promise<void>
}
