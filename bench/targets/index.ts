import { nchan } from './nchan.ts'
import { rawBun } from './raw-bun.ts'
import { ringcast } from './ringcast.ts'
import type { Target, TargetSpec } from './target.ts'
import { urlTarget } from './url.ts'

/** Builds the adapter a spec names (`ringcast×2` for a cluster of two, speaking to its first node); workers call this on the spec the orchestrator sends them. */
export function targetOf(spec: TargetSpec): Target {
  const target = adapterOf(spec)
  return spec.nodes && spec.nodes.length > 1 ? { ...target, name: `${target.name}×${spec.nodes.length}` } : target
}

/** One adapter per node of a cluster (one for a single server), each speaking to its node. */
export const nodeTargets = (spec: TargetSpec): Target[] => (spec.nodes ?? [spec.base]).map((base) => adapterOf({ ...spec, base, nodes: undefined }))

function adapterOf(spec: TargetSpec): Target {
  if (spec.label) return { ...adapterOf({ ...spec, label: undefined }), name: spec.label }
  if (spec.kind === 'ringcast') return ringcast(spec)
  if (spec.kind === 'nchan') return nchan(spec)
  if (spec.kind === 'raw-bun') return rawBun(spec)
  return urlTarget(spec)
}
