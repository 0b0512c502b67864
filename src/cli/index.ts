import { VERSION } from '../server'
import { parseArgs } from './args'
import type { Command, Env } from './command'
import { UsageError } from './errors'
import { exportCommand } from './export'
import { healthCommand } from './health'
import { commandHelp, helpText } from './help'
import { importCommand } from './import'
import { publishCommand } from './publish'
import { serveCommand } from './serve'
import { tailCommand } from './tail'
import { tokenCommand } from './token'

/** Every command, in the order help lists them. */
export const COMMANDS: readonly Command[] = [serveCommand, publishCommand, tailCommand, exportCommand, importCommand, tokenCommand, healthCommand]

/** Runs one command line. Throws UsageError (exit 2) or CliError (exit 1); main prints them as one line. */
export async function run(argv: readonly string[], env: Env): Promise<void> {
  // The first word names the command; a line that starts with a flag is serve's.
  const first = argv[0]?.startsWith('-') ? undefined : argv[0]
  const rest = first === undefined ? argv : argv.slice(1)
  if (first === 'version' || (first === undefined && rest.includes('--version'))) return write(`${VERSION}\n`)
  if (first === 'help') {
    if (rest.length === 0) return write(helpText(VERSION, COMMANDS))
    return write(commandHelp(commandNamed(rest[0])))
  }
  const command = commandNamed(first ?? 'serve')
  if (rest.includes('--help') || rest.includes('-h')) return write(first === undefined ? helpText(VERSION, COMMANDS) : commandHelp(command))
  const parsed = parseArgs(rest, command.flags, command.name, command.maxWords)
  // serve reads RINGCAST_* itself, so a bad value is named by its variable; client commands take theirs here.
  if (command !== serveCommand) {
    for (const spec of command.flags) if (spec.env && parsed.flags[spec.name] === undefined && env[spec.env]) parsed.flags[spec.name] = env[spec.env]!
  }
  await command.run(parsed, env)
}

function commandNamed(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) throw new UsageError(`unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')}, help, version)`)
  return command
}

function write(text: string): void {
  process.stdout.write(text)
}
