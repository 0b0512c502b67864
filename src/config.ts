import { type TSchema, Type as T } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { patternProblem } from './core/pattern'

interface Setting {
  schema: TSchema
  default?: unknown
  help: string
  /** Placeholder for the value in help, when the type alone does not say it (`FILE`). */
  value?: string
}

const int = (min: number, max: number, help: string, def?: number): Setting => ({ schema: T.Integer({ minimum: min, maximum: max }), default: def, help })
const GiB = 1024 ** 3

/** Every server setting: flag `--kebab-name`, env `RINGCAST_SNAKE_NAME`, config-file key `camelName`. */
export const SETTINGS = {
  host: { schema: T.String({ minLength: 1 }), default: '127.0.0.1', help: 'address to listen on (0.0.0.0 for every interface)', value: 'ADDRESS' },
  port: int(0, 65535, 'TCP port (0 picks a free one)', 8080),
  data: { schema: T.String({ minLength: 1 }), default: './data/ringcast.db', help: 'SQLite file, or :memory: to keep nothing on disk (not used with --redis)', value: 'FILE' },
  redis: { schema: T.String({ pattern: '^(redis|rediss|valkey|valkeys)://', title: 'a redis:// or rediss:// URL' }), help: 'share events, ids and groups with other nodes through this Redis (instead of the SQLite file)', value: 'URL' },
  node: { schema: T.String({ minLength: 1, maxLength: 200 }), help: 'this node\'s name in /v1/connections, /metrics and the log (default host:port)', value: 'NAME' },
  config: { schema: T.String({ minLength: 1 }), help: 'JSON config file (settings plus per-pattern stream defaults)', value: 'FILE' },
  tlsCert: { schema: T.String({ minLength: 1 }), help: 'PEM certificate (chain): serve HTTPS and WSS on --port; SIGHUP reloads it', value: 'FILE' },
  tlsKey: { schema: T.String({ minLength: 1 }), help: 'PEM private key of --tls-cert', value: 'FILE' },
  ringSize: int(1, 1_000_000, 'events kept in memory per stream', 1024),
  heartbeat: int(1, 300, 'seconds between SSE heartbeat comments', 15),
  retentionEvents: int(1, 1_000_000_000, 'events kept per stream', 10_000),
  retentionAge: int(1, 100 * 365 * 86400, 'seconds an event is kept', 604_800),
  dedupWindow: int(0, 365 * 86400, 'seconds an idempotency key is remembered', 86_400),
  durability: { schema: T.Union([T.Literal('normal'), T.Literal('full')]), default: 'normal', help: 'normal survives a killed process; full also survives power loss' },
  maxPayload: int(1, GiB, 'largest request body in bytes (413 past it)', 1024 * 1024),
  maxBatch: int(1, 100_000, 'most events in one publish request', 1000),
  maxDepth: int(1, 1000, 'deepest nesting of arrays and objects in an event\'s data (400 past it)', 64),
  maxConnections: int(1, 10_000_000, 'live subscriptions in all (503 past it)', 100_000),
  maxConnectionsPerClient: int(1, 10_000_000, 'live subscriptions per client (429 past it)', 5000),
  maxPatternsPerConnection: int(1, 1_000_000, 'patterns one connection may hold over all its subscriptions (a WebSocket error or 429 past it)', 1024),
  maxPatternsPerClient: int(1, 100_000_000, 'patterns one client may hold over all its connections (429 past it)', 50_000),
  maxStreams: int(1, 100_000_000, 'streams the server keeps; a publish that would create one more is refused (507)', 1_000_000),
  publishRate: int(0, 100_000_000, 'events per second per client, burst of one second; 0 is unlimited', 0),
  bufferLimit: int(1024, GiB, 'bytes queued per connection before the slow-consumer policy applies', 1024 * 1024),
  corsOrigin: { schema: T.Array(T.String({ minLength: 1 })), default: [], help: 'origins allowed by CORS (comma-separated; * for any)' },
  allowedHosts: { schema: T.Array(T.String({ minLength: 1 })), default: [], help: 'Host names an open server answers besides its IP addresses and loopback names (comma-separated; * for any, e.g. behind a proxy)' },
  jwtSecret: { schema: T.String({ minLength: 16 }), help: 'HMAC secret for HS256/384/512 tokens (at least 16 characters)', value: 'SECRET' },
  jwtKey: { schema: T.String({ minLength: 1 }), help: 'PEM public key or JWKS file for RS256/ES256/EdDSA tokens', value: 'FILE' },
  jwtAudience: { schema: T.String({ minLength: 1 }), help: 'required token audience (aud)' },
  jwtIssuer: { schema: T.String({ minLength: 1 }), help: 'required token issuer (iss)' },
  jwtMaxAge: int(1, 10 * 365 * 86400, 'refuse tokens without exp, or living longer than this many seconds (off by default; recommended)'),
  metricsPublic: { schema: T.Boolean(), default: false, help: 'serve /metrics and /v1/stats without an admin token' },
  logLevel: { schema: T.Union(['debug', 'info', 'warn', 'error'].map((l) => T.Literal(l))), default: 'info', help: 'debug adds one line per request and per connection' },
  logFormat: { schema: T.Union([T.Literal('text'), T.Literal('json')]), default: 'text', help: 'json: one JSON object per log line' },
  logEvents: { schema: T.Boolean(), default: false, help: 'mirror every published event to stdout as an [events] line' },
  compression: { schema: T.Union([T.Literal('http'), T.Literal('all'), T.Literal('off')]), default: 'http', help: 'http: compress SSE (gzip), polling pages and exports (zstd, br, gzip) for clients that accept it; all: WebSocket permessage-deflate too (CPU per socket); off: nothing' },
  idleTimeout: int(1, 86_400, 'end an SSE subscription that has received no event for this many seconds (off by default; ?timeout= per subscription)'),
} satisfies Record<string, Setting>

type SettingName = keyof typeof SETTINGS

export interface StreamDefaultConfig {
  pattern: string
  ringSize?: number
  maxEvents?: number
  maxAgeSeconds?: number
  ephemeral?: boolean
}

export interface Config {
  host: string
  port: number
  data: string
  redis?: string
  node?: string
  config?: string
  ringSize: number
  heartbeat: number
  retentionEvents: number
  retentionAge: number
  dedupWindow: number
  durability: 'normal' | 'full'
  maxPayload: number
  maxBatch: number
  maxDepth: number
  maxConnections: number
  maxConnectionsPerClient: number
  maxPatternsPerConnection: number
  maxPatternsPerClient: number
  maxStreams: number
  publishRate: number
  bufferLimit: number
  corsOrigin: string[]
  allowedHosts: string[]
  jwtSecret?: string
  jwtKey?: string
  jwtAudience?: string
  jwtIssuer?: string
  jwtMaxAge?: number
  metricsPublic: boolean
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  logFormat: 'text' | 'json'
  logEvents: boolean
  compression: 'http' | 'all' | 'off'
  idleTimeout?: number
  tlsCert?: string
  tlsKey?: string
  /** Whether --host was given (with no auth key the server only binds loopback unless it was). */
  hostGiven: boolean
  streams: StreamDefaultConfig[]
}

/** A setting that cannot be used; `message` is the one line printed at start-up. */
export class ConfigError extends Error {}

const StreamDefaultSchema = T.Object(
  {
    pattern: T.String({ minLength: 1 }),
    ringSize: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
    maxEvents: T.Optional(T.Integer({ minimum: 1 })),
    maxAgeSeconds: T.Optional(T.Integer({ minimum: 1 })),
    ephemeral: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
)

/** Loads settings: flags win over RINGCAST_* env, which wins over the config file, which wins over defaults. */
export function loadConfig(flags: Record<string, string>, env: Record<string, string | undefined>, readFile: (path: string) => string): Config {
  const raw: Record<string, { value: unknown; source: string }> = {}
  const configPath = flags.config ?? env.RINGCAST_CONFIG
  let streams: StreamDefaultConfig[] = []
  if (configPath) {
    const file = parseConfigFile(configPath, readFile)
    for (const [key, value] of Object.entries(file)) {
      if (key === 'streams') {
        streams = checkStreams(value, configPath)
        continue
      }
      if (!(key in SETTINGS)) throw new ConfigError(`config file ${configPath}: unknown setting "${key}"`)
      // null leaves a setting unset: a file may list every key, with the ones not used as null.
      if (value !== null) raw[key] = { value, source: `"${key}" in ${configPath}` }
    }
  }
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const envName = envNameOf(name)
    const fromEnv = env[envName]
    if (fromEnv !== undefined && fromEnv !== '') raw[name] = { value: fromText(name, fromEnv), source: isSecret(name) ? envName : `${envName}=${fromEnv}` }
  }
  for (const [flag, text] of Object.entries(flags)) {
    const name = nameOfFlag(flag)
    if (!name) throw new ConfigError(`unknown flag --${flag} (see ringcast --help)`)
    raw[name] = { value: fromText(name, text), source: isSecret(name) ? `--${flag}` : `--${flag} ${text}` }
  }

  const config: Record<string, unknown> = {}
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const given = raw[name]
    const value = given ? given.value : setting.default
    if (value === undefined) continue
    if (!Value.Check(setting.schema, value)) {
      throw new ConfigError(`invalid ${given?.source ?? name}: expected ${describe(setting.schema)}`)
    }
    config[name] = value
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    const [given, missing] = config.tlsCert === undefined ? ['--tls-key', '--tls-cert'] : ['--tls-cert', '--tls-key']
    throw new ConfigError(`invalid ${given}: it needs ${missing} as well (a certificate and its private key)`)
  }
  config.hostGiven = raw.host !== undefined
  config.streams = streams
  return config as unknown as Config
}

// Never echoed in an error line: start-up output ends up in logs.
function isSecret(name: string): boolean {
  // A Redis URL may hold a password.
  return name === 'jwtSecret' || name === 'redis'
}

/** `--max-payload` → `maxPayload`; undefined for an unknown flag. */
export function nameOfFlag(flag: string): SettingName | undefined {
  const name = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
  return name in SETTINGS ? (name as SettingName) : undefined
}

export function flagOf(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

export function envNameOf(name: string): string {
  return `RINGCAST_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`
}

function fromText(name: SettingName, text: string): unknown {
  const schema = SETTINGS[name].schema
  if (schema.type === 'integer') return /^-?\d+$/.test(text.trim()) ? Number(text) : text
  if (schema.type === 'array') return text.split(',').map((s) => s.trim()).filter(Boolean)
  if (schema.type === 'boolean') return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text
  return text
}

function describe(schema: TSchema): string {
  if (typeof schema.title === 'string') return schema.title
  if (schema.type === 'integer') return `an integer from ${schema.minimum} to ${schema.maximum}`
  if (schema.anyOf) return `one of ${schema.anyOf.map((s: TSchema) => s.const).join(', ')}`
  if (schema.type === 'array') return 'a comma-separated list'
  if (schema.type === 'boolean') return 'true or false'
  if (schema.minLength > 1) return `a string of at least ${schema.minLength} characters`
  return 'a non-empty string'
}

function parseConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string
  try {
    text = readFile(path)
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must hold a JSON object`)
  return parsed as Record<string, unknown>
}

function checkStreams(value: unknown, path: string): StreamDefaultConfig[] {
  if (!Array.isArray(value)) throw new ConfigError(`config file ${path}: "streams" must be an array of {pattern, ringSize?, maxEvents?, maxAgeSeconds?, ephemeral?}`)
  return value.map((entry, i) => {
    if (!Value.Check(StreamDefaultSchema, entry)) {
      const first = [...Value.Errors(StreamDefaultSchema, entry)][0]
      throw new ConfigError(`config file ${path}: streams[${i}]${first?.path ?? ''} ${first?.message ?? 'is invalid'}`)
    }
    const problem = patternProblem(entry.pattern)
    if (problem) throw new ConfigError(`config file ${path}: streams[${i}].pattern: ${problem}`)
    return entry
  })
}
