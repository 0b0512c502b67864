import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'

/** One line describing the box, printed with every result: figures mean nothing without it. */
export function machine(): string {
  const model = cpus()[0]?.model?.trim() ?? 'unknown CPU'
  let limit = ''
  try { limit = `, open files ${/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]}` } catch { /* not Linux */ }
  return `${cpus().length} × ${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, bun ${Bun.version}${limit}`
}
