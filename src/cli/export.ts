import { authHeaders, baseUrl, check, need, streamQuery } from './client'

/** `ringcast export PATTERN...`: every retained event after --after (default 0) as NDJSON on stdout. */
export async function exportEvents(words: string[], flags: Record<string, string>, env: Record<string, string | undefined>): Promise<void> {
  need(words[0], 'PATTERN')
  const response = await check(await fetch(`${baseUrl(flags, env)}/v1/events?${streamQuery(words, flags)}`, { headers: { Accept: 'application/x-ndjson', ...authHeaders(flags, env) } }))
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(chunk)
}
