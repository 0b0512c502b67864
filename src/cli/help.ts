import { SETTINGS, envNameOf, flagOf } from '../config'

/** The text `ringcast --help` prints. */
export function helpText(version: string): string {
  const lines = [
    `ringcast ${version}: event fan-out over SSE, WebSocket and HTTP polling, with a durable SQLite log.`,
    '',
    'Usage: ringcast [command] [flags]',
    '',
    'Commands:',
    '  serve                 run the server (the default)',
    '  publish STREAM [DATA] publish one event (DATA, or stdin lines as NDJSON/text)',
    '  tail PATTERN...       print events as they arrive (SSE), resuming with --after',
    '  export PATTERN...     print retained events as NDJSON',
    '  health                exit 0 if the server at --url is ready (container health checks)',
    '  help                  this text',
    '',
    'Client commands take --url (default http://127.0.0.1:8080, env RINGCAST_URL) and --type, --after as they apply.',
    '',
    'Server flags (env RINGCAST_*; flags win over env, env over --config file, file over defaults):',
  ]
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const def = 'default' in setting && setting.default !== undefined ? ` (default ${JSON.stringify(setting.default)})` : ''
    lines.push(`  ${flagOf(name).padEnd(30)} ${setting.help}${def} [${envNameOf(name)}]`)
  }
  lines.push('', 'API docs: http://HOST:PORT/docs')
  return `${lines.join('\n')}\n`
}
