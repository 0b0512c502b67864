import type { HistogramJson } from './histogram.ts'
import type { TargetSpec } from '../targets/target.ts'

/** Orchestrator ↔ generator worker messages (Bun IPC, JSON). */
export type Kind = 'sse' | 'ws' | 'poll'

export interface SubPlan {
  kind: Kind
  /** What to subscribe to: stream names, or one pattern. */
  streams: string[]
  /** Indexes (the `s` in event data) of the streams this subscriber must receive. */
  expect: number[]
  /** The cluster node it connects (and reconnects) to; 0 for a single server. */
  node?: number
}

export type Command =
  | { op: 'open'; spec: TargetSpec; subs: SubPlan[]; timeoutMs: number }
  | { op: 'mark' }
  | { op: 'storm'; timeoutMs: number }
  | { op: 'catch-up'; until: Record<number, number> }
  /** Every everyMs, drop perTick SSE/WS subscribers (round-robin); each resumes from its last id. everyMs 0 stops. */
  | { op: 'churn'; everyMs: number; perTick: number }
  | { op: 'collect'; published: Record<number, number>; settleMs: number }
  | { op: 'close' }

export interface OpenReport { connected: number; failed: number; wallMs: number; connectMs: HistogramJson }

/** Answer to storm: how long until every dropped subscriber was connected again. */
export interface StormReport { reconnectedMs: number; live: number; subs: number }

export interface KindStats {
  subs: number
  live: number
  expected: number
  received: number
  lost: number
  duplicates: number
  outOfOrder: number
  reconnects: number
  /** Long-poll requests answered. */
  requests: number
  errors: number
  caughtUp: number
  catchUpMs: HistogramJson
}

export interface CollectReport {
  kinds: Partial<Record<Kind, KindStats>>
  latency: HistogramJson
  latencyByKind: Record<string, HistogramJson>
  /** Per node the subscribers were on (a cluster's same-node and cross-node deliveries). */
  latencyByNode: Record<string, HistogramJson>
  worst: { ms: number; kind: string; s: number; q: number }
  controls: Record<string, number>
  /** Worker CPU (user+system) since `mark`, and the wall time it covers. */
  cpuMs: number
  wallMs: number
  /** Time from the collect command until everything expected had arrived (or settleMs ran out). */
  drainMs: number
}
