import type { Kind, SubPlan } from '../gen/protocol.ts'
import type { Ctx } from './context.ts'
import type { ScenarioResult } from './result.ts'

/** A named, self-bounded measurement; it decides itself whether a target can run it. */
export interface Scenario {
  name: string
  title: string
  /** Too long for the default full run: runs when named with --scenario, and in --quick at its small size. */
  isLong?: boolean
  /** Only in runs with a cluster (--cluster, or --quick's), unless named. */
  needsCluster?: boolean
  run(ctx: Ctx): Promise<ScenarioResult>
}

/** n subscribers of one kind, subscriber i on streams[i % streams.length]. */
export function subsOn(kind: Kind, n: number, streams: string[]): SubPlan[] {
  return Array.from({ length: n }, (_, i) => ({ kind, streams: [streams[i % streams.length]], expect: [i % streams.length] }))
}

export const streamNames = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}.${i}`)

export function skipped(scenario: Scenario, ctx: Ctx, why: string): ScenarioResult {
  return { scenario: scenario.name, title: scenario.title, target: ctx.target.name, skipped: why, notes: [] }
}
