import { ringcast } from './ringcast.ts'
import type { Target, TargetSpec } from './target.ts'

/** bench/peers/raw-bun.ts speaks ringcast's wire for one stream at a time: the same adapter, without patterns. */
export function rawBun(spec: TargetSpec): Target {
  const base = ringcast(spec)
  return { ...base, name: 'raw-bun', caps: { ...base.caps, pattern: false } }
}
