import { authHeaders, baseUrl, check, need } from './client'

/** `ringcast publish STREAM [DATA]`: DATA is JSON if it parses, else text; without it, stdin is sent as NDJSON. */
export async function publish(words: string[], flags: Record<string, string>, env: Record<string, string | undefined>): Promise<void> {
  const stream = need(words[0], 'STREAM')
  const url = `${baseUrl(flags, env)}/v1/streams/${encodeURIComponent(stream)}/events`
  let body: string
  let contentType = 'application/json'
  if (words[1] !== undefined) {
    let data: unknown = words[1]
    try {
      data = JSON.parse(words[1])
    } catch {
      // Plain text is the event's data as it is.
    }
    body = JSON.stringify({ type: flags.type ?? 'message', data, ...(flags.key && { key: flags.key }) })
  } else {
    body = await Bun.stdin.text()
    contentType = 'application/x-ndjson'
  }
  const response = await check(await fetch(url, { method: 'POST', body, headers: { 'Content-Type': contentType, ...authHeaders(flags, env) } }))
  process.stdout.write(`${await response.text()}\n`)
}
