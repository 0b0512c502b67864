import { UsageError } from './errors'

/** A flag a command accepts: `--name VALUE`, `--name=VALUE`; a boolean also alone (true) or with `true|false`. */
export interface FlagSpec {
  name: string
  kind: 'value' | 'boolean' | 'list'
  /** Placeholder shown in help, e.g. `ID`. */
  value?: string
  help: string
  env?: string
  default?: string
}

/** What a command line holds once checked against its command's flags. */
export interface Parsed {
  words: string[]
  /** The last value of each flag given (booleans as `true`/`false`). */
  flags: Record<string, string>
  /** Every value of each repeatable (`list`) flag, in order. */
  lists: Record<string, string[]>
}

const BOOLEAN_WORDS = new Set(['true', 'false'])

/** Checks argv against `specs`: unknown flags, missing values and more than `maxWords` positional words are UsageErrors. */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string, maxWords: number): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]))
  const parsed: Parsed = { words: [], flags: {}, lists: {} }
  const see = `(see ringcast help ${command})`
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--' || !arg.startsWith('--')) {
      // After `--`, everything is a word (a DATA that starts with `--`).
      const rest = arg === '--' ? argv.slice(i + 1) : [arg]
      parsed.words.push(...rest)
      if (parsed.words.length > maxWords) throw new UsageError(`unexpected argument "${parsed.words[maxWords]}" for ringcast ${command} ${see}`)
      if (arg === '--') break
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq > 0 ? eq : undefined)
    const spec = byName.get(name)
    if (!spec) throw new UsageError(`unknown flag --${name} for ringcast ${command} ${see}`)
    let value: string
    if (eq > 0) value = arg.slice(eq + 1)
    else if (spec.kind === 'boolean') value = BOOLEAN_WORDS.has(argv[i + 1]) ? argv[++i] : 'true'
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i]
    else throw new UsageError(`--${name} needs a value ${see}`)
    if (spec.kind === 'boolean' && !BOOLEAN_WORDS.has(value)) throw new UsageError(`--${name} takes true or false, not "${value}"`)
    parsed.flags[name] = value
    if (spec.kind === 'list') (parsed.lists[name] ??= []).push(value)
  }
  return parsed
}
