import type { FlagSpec } from './args'
import type { Command } from './command'

/** `ringcast --help`: the commands, then the server's flags (serve is the default command). */
export function helpText(version: string, commands: readonly Command[]): string {
  const serve = commands.find((c) => c.name === 'serve')!
  const lines = [
    `ringcast ${version}: event fan-out over SSE, WebSocket and HTTP polling, with a durable SQLite log.`,
    '',
    'Usage: ringcast [COMMAND] [FLAGS]   (COMMAND is serve when left out)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${`${c.name} ${c.words}`.padEnd(24)}${c.summary}`),
    `  ${'help [COMMAND]'.padEnd(24)}this text, or one command's flags`,
    `  ${'version'.padEnd(24)}print the version`,
    '',
    '`ringcast help COMMAND` or `ringcast COMMAND --help` lists that command\'s flags.',
    'Client commands talk to --url URL [RINGCAST_URL] with --token JWT [RINGCAST_TOKEN].',
    ...COMMON,
    '',
    'Server flags (ringcast serve):',
    ...flagLines(serve.flags),
    '',
    'API docs: http://HOST:PORT/docs',
  ]
  return `${lines.join('\n')}\n`
}

/** `ringcast help COMMAND`: its usage, what it does, and every flag with its env variable and default. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: ringcast ${command.name}${command.words ? ` ${command.words}` : ''} [FLAGS]`, '', `${capital(command.summary)}.`, ...command.details, '', 'Flags:', ...flagLines(command.flags), ...COMMON]
  return `${lines.join('\n')}\n`
}

const COMMON = [
  'Flags take a value as --name VALUE or --name=VALUE; a boolean flag alone means true, or takes true|false.',
  'Exit codes: 0 done; 1 failed (one line on stderr); 2 bad command line.',
]

function flagLines(flags: readonly FlagSpec[]): string[] {
  return flags.map((f) => {
    const name = `--${f.name}${f.kind === 'boolean' ? ' [true|false]' : ` ${f.value ?? 'VALUE'}`}${f.kind === 'list' ? ' …' : ''}`
    const def = f.default !== undefined ? ` (default ${f.default})` : ''
    const env = f.env ? ` [${f.env}]` : ''
    return `  ${name.padEnd(34)} ${f.help}${def}${env}`
  })
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
