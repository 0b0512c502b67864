import { type Config, flagOf, SETTINGS } from './config'

// Shown on their own in the banner (or never: secrets), not among the changed settings.
const OWN_FIELDS = new Set(['host', 'port', 'data', 'redis', 'node', 'config', 'durability', 'tlsCert', 'tlsKey', 'jwtSecret', 'jwtKey', 'jwtAudience', 'jwtIssuer'])

/** The fields of the start-up line: where to reach the server, who may use it, where data goes, what differs from the defaults. */
export function bannerFields(config: Config, url: string, node: string): Record<string, string> {
  const fields: Record<string, string> = { url, docs: `${url}/docs`, auth: authMode(config) }
  // Among several nodes the name tells their logs apart.
  if (config.redis || config.node) fields.node = node
  if (config.redis) fields.redis = withoutPassword(config.redis)
  else Object.assign(fields, { data: config.data, durability: config.durability })
  if (config.tlsCert) fields.tls = `${config.tlsCert} (SIGHUP reloads it)`
  if (config.config) fields.config = config.config
  const changed: string[] = []
  for (const [name, setting] of Object.entries(SETTINGS)) {
    if (OWN_FIELDS.has(name)) continue
    const value = config[name as keyof Config]
    const def = 'default' in setting ? setting.default : undefined
    if (value !== undefined && JSON.stringify(value) !== JSON.stringify(def)) changed.push(`${flagOf(name)} ${Array.isArray(value) ? value.join(',') : value}`)
  }
  if (changed.length > 0) fields.settings = changed.join(' ')
  return fields
}

function authMode(config: Config): string {
  const keys: string[] = []
  if (config.jwtSecret) keys.push('HS256/384/512 tokens (--jwt-secret)')
  if (config.jwtKey) keys.push(`tokens signed by ${config.jwtKey} (--jwt-key)`)
  if (keys.length === 0) return 'open: no token needed'
  if (config.jwtAudience) keys.push(`aud ${config.jwtAudience}`)
  if (config.jwtIssuer) keys.push(`iss ${config.jwtIssuer}`)
  return keys.join(', ')
}

/** The URL as it may be logged: a password is replaced by stars. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable URL)'
  }
}
