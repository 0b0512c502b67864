/** Shared bits of the client commands: where the server is, and how a failure is reported. */
export function baseUrl(flags: Record<string, string>, env: Record<string, string | undefined>): string {
  return (flags.url ?? env.RINGCAST_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
}

export function authHeaders(flags: Record<string, string>, env: Record<string, string | undefined>): Record<string, string> {
  const token = flags.token ?? env.RINGCAST_TOKEN
  return token ? { Authorization: `Bearer ${token}` } : {}
}

export function need(value: string | undefined, what: string): string {
  if (!value) die(`missing ${what} (see ringcast --help)`)
  return value
}

export async function check(response: Response): Promise<Response> {
  if (response.ok) return response
  const text = await response.text()
  let detail = text
  try {
    detail = (JSON.parse(text) as { detail?: string }).detail ?? text
  } catch {
    // Not problem+json: print it as it is.
  }
  die(`${response.status} ${detail}`)
}

export function die(line: string): never {
  process.stderr.write(`ringcast: ${line}\n`)
  process.exit(1)
}

export function streamQuery(patterns: string[], flags: Record<string, string>): string {
  const q = new URLSearchParams()
  for (const p of patterns) q.append('stream', p)
  if (flags.after !== undefined) q.set('after', flags.after)
  if (flags.types !== undefined) q.set('types', flags.types)
  return q.toString()
}
