import { SignJWT } from 'jose'
import { patternProblem } from '../core/pattern'
import type { Command } from './command'
import { UsageError } from './errors'

/** `ringcast token`: an HS256 JWT that a server started with the same --jwt-secret accepts. */
export const tokenCommand: Command = {
  name: 'token',
  words: '',
  maxWords: 0,
  summary: 'print an HS256 token for a server with --jwt-secret',
  details: ['Grants nothing unless asked: give --publish/--subscribe patterns (repeat them) and/or --admin.'],
  flags: [
    { name: 'jwt-secret', kind: 'value', value: 'SECRET', help: "the server's --jwt-secret (at least 16 characters)", env: 'RINGCAST_JWT_SECRET' },
    { name: 'sub', kind: 'value', value: 'NAME', help: 'subject: who the token is for (limits count per subject)' },
    { name: 'publish', kind: 'list', value: 'PATTERN', help: 'may publish to streams matching PATTERN (repeatable)' },
    { name: 'subscribe', kind: 'list', value: 'PATTERN', help: 'may subscribe within PATTERN (repeatable)' },
    { name: 'admin', kind: 'boolean', help: 'may use the admin routes', default: 'false' },
    { name: 'ttl', kind: 'value', value: 'SECONDS', help: 'lifetime; 0 for a token that never expires (a server with --jwt-max-age refuses those)', default: '3600' },
    { name: 'jwt-audience', kind: 'value', value: 'AUD', help: "aud claim (the server's --jwt-audience)", env: 'RINGCAST_JWT_AUDIENCE' },
    { name: 'jwt-issuer', kind: 'value', value: 'ISS', help: "iss claim (the server's --jwt-issuer)", env: 'RINGCAST_JWT_ISSUER' },
  ],
  async run({ flags, lists }) {
    const secret = flags['jwt-secret']
    if (!secret) throw new UsageError('missing --jwt-secret (or RINGCAST_JWT_SECRET): the secret the server was started with')
    if (secret.length < 16) throw new UsageError('--jwt-secret must be at least 16 characters, as the server requires')
    const ttl = Number(flags.ttl ?? 3600)
    if (!Number.isInteger(ttl) || ttl < 0) throw new UsageError(`--ttl takes whole seconds (0 for no expiry), not "${flags.ttl}"`)
    const claim = { publish: patterns(lists.publish, 'publish'), subscribe: patterns(lists.subscribe, 'subscribe'), admin: flags.admin === 'true' }
    let jwt = new SignJWT({ ringcast: claim }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt()
    if (flags.sub) jwt = jwt.setSubject(flags.sub)
    if (ttl > 0) jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    const audience = flags['jwt-audience']
    const issuer = flags['jwt-issuer']
    if (audience) jwt = jwt.setAudience(audience)
    if (issuer) jwt = jwt.setIssuer(issuer)
    process.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`)
  },
}

function patterns(values: string[] | undefined, flag: string): string[] {
  for (const p of values ?? []) {
    const problem = patternProblem(p)
    if (problem) throw new UsageError(`--${flag} ${p}: ${problem}`)
  }
  return values ?? []
}
