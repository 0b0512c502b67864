import { VERSION } from '../server'
import { exportEvents } from './export'
import { health } from './health'
import { helpText } from './help'
import { publish } from './publish'
import { serve } from './serve'
import { tail } from './tail'

const SWITCHES = new Set(['--help', '--version', '--metrics-public'])

/** Splits argv into positional words and `--name value` / `--name=value` flags. */
export function parseArgs(argv: readonly string[]): { words: string[]; flags: Record<string, string> } {
  const words: string[] = []
  const flags: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) {
      words.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1)
    else if (!SWITCHES.has(arg) && i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[arg.slice(2)] = argv[++i]
    // A flag with no value is a switch; a setting that needs a value says so at validation.
    else flags[arg.slice(2)] = 'true'
  }
  return { words, flags }
}

export async function run(argv: readonly string[], env: Record<string, string | undefined>): Promise<void> {
  const { words, flags } = parseArgs(argv)
  const command = words[0] ?? 'serve'
  if (flags.help !== undefined || command === 'help') {
    process.stdout.write(helpText(VERSION))
    return
  }
  if (flags.version !== undefined || command === 'version') {
    process.stdout.write(`${VERSION}\n`)
    return
  }
  switch (command) {
    case 'serve':
      return serve(flags, env)
    case 'publish':
      return publish(words.slice(1), flags, env)
    case 'tail':
      return tail(words.slice(1), flags, env)
    case 'export':
      return exportEvents(words.slice(1), flags, env)
    case 'health':
      return health(flags, env)
    default:
      process.stderr.write(`ringcast: unknown command "${command}" (see ringcast --help)\n`)
      process.exit(1)
  }
}
