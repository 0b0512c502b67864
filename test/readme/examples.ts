/** One shell command of the README, with the output it shows (the `#` lines right after it). */
export interface Example {
  /** 1-based line in README.md where the command starts. */
  line: number
  command: string
  /** Output lines as shown, without their `# `; null when the README shows none. */
  expected: string[] | null
}

/**
 * The commands of every ```sh block, in order. A command may continue over lines ending in `\`.
 * The `#` lines directly under a command (no blank line between) are its output; other comments are prose.
 */
export function examplesOf(markdown: string): Example[] {
  const lines = markdown.split('\n')
  const examples: Example[] = []
  let isInBlock = false
  let last: Example | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.startsWith('```')) {
      isInBlock = !isInBlock && line.trim() === '```sh'
      last = undefined
      continue
    }
    if (!isInBlock) continue
    const trimmed = line.trim()
    if (trimmed === '') {
      last = undefined
    } else if (trimmed.startsWith('#')) {
      if (last) (last.expected ??= []).push(trimmed.replace(/^# ?/, ''))
    } else {
      const start = i
      let command = line
      while (command.endsWith('\\') && i + 1 < lines.length) command += `\n${lines[++i]}`
      last = { line: start + 1, command, expected: null }
      examples.push(last)
    }
  }
  return examples
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/
// Values that differ on every run: ids, times, and the opaque credentials the server makes.
const MASKED_KEYS = new Set(['id', 'ticket'])
// The random idempotency key the client library (and so `ringcast publish`) sends; the README shows it as "…".
const RANDOM_KEY = /^([0-9a-f]{32}(:\d+)?|…)$/

/** A JSON value with ids, times, tickets and random keys replaced by placeholders, so two runs compare equal. */
export function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(masked)
  if (typeof value === 'string' && ISO_TIME.test(value)) return '<time>'
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, MASKED_KEYS.has(k) || (k === 'key' && RANDOM_KEY.test(String(v))) ? `<${k}>` : masked(v)]))
}

/** How a shown output line differs from the real one, or null when they agree (JSON compared masked, the rest literally). */
export function lineDifference(expected: string, actual: string | undefined): string | null {
  if (actual === undefined) return `missing line: ${expected}`
  const prefix = /^(data: )?[{[]/.exec(expected)?.[1] ?? ''
  const asJson = (text: string) => {
    try {
      return text.startsWith(prefix) ? JSON.stringify(masked(JSON.parse(text.slice(prefix.length)))) : undefined
    } catch {
      return undefined
    }
  }
  const want = /^(data: )?[{[]/.test(expected) ? asJson(expected) : undefined
  if (want === undefined) return expected === actual ? null : `expected: ${expected}\n     got: ${actual}`
  return want === asJson(actual) ? null : `expected: ${expected}\n     got: ${actual}`
}
