/** The bench's event data `{s, q, t}` (stream index, per-stream seq, send time in epoch ms) and its fast reader. */
export interface Stamp { s: number; q: number; t: number }

/** Epoch ms with sub-ms precision, comparable across processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now()

export function payload(s: number, q: number, padBytes: number): string {
  const pad = padBytes > 0 ? `,"p":"${'x'.repeat(padBytes)}"` : ''
  return `{"s":${s},"q":${q},"t":${nowMs().toFixed(3)}${pad}}`
}

// indexOf instead of JSON.parse: the generator reads 100k+ frames/s and must not be the bottleneck.
// Works on any wrapper (ringcast envelope, WS op frame, raw Nchan data) because the keys are ours.
export function readStamp(text: string): Stamp | null {
  const s = numberAfter(text, '"s":')
  const q = numberAfter(text, '"q":')
  const t = numberAfter(text, '"t":')
  if (Number.isNaN(s) || Number.isNaN(q) || Number.isNaN(t)) return null
  return { s, q, t }
}

function numberAfter(text: string, key: string): number {
  const at = text.indexOf(key)
  if (at < 0) return NaN
  let end = at + key.length
  while (end < text.length) {
    const c = text.charCodeAt(end)
    if ((c >= 48 && c <= 57) || c === 46 || c === 45) end++
    else break
  }
  return Number(text.slice(at + key.length, end))
}

/**
 * A server id as a number that grows with the server's order, or NaN when the id is opaque:
 * ringcast ids are integers; Nchan's are `time:tag`.
 */
export function orderKey(id: string): number {
  const colon = id.indexOf(':')
  if (colon < 0) return isDigits(id, 0, id.length) ? Number(id) : NaN
  return isDigits(id, 0, colon) && isDigits(id, colon + 1, id.length) ? Number(id.slice(0, colon)) * 1e6 + Number(id.slice(colon + 1)) : NaN
}

/** Where the run of ASCII digits starting at `from` ends. */
export function digitsEnd(text: string, from: number): number {
  let end = from
  while (end < text.length) {
    const c = text.charCodeAt(end)
    if (c < 48 || c > 57) break
    end++
  }
  return end
}

const isDigits = (text: string, from: number, to: number): boolean => to > from && digitsEnd(text, from) >= to
