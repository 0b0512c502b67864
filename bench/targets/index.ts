import { nchan } from './nchan.ts'
import { rawBun } from './raw-bun.ts'
import { ringcast } from './ringcast.ts'
import type { Target, TargetSpec } from './target.ts'
import { urlTarget } from './url.ts'

/** Builds the adapter a spec names; workers call this on the spec the orchestrator sends them. */
export function targetOf(spec: TargetSpec): Target {
  if (spec.kind === 'ringcast') return ringcast(spec)
  if (spec.kind === 'nchan') return nchan(spec)
  if (spec.kind === 'raw-bun') return rawBun(spec)
  return urlTarget(spec)
}
