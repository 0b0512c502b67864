import { authHeaders, baseUrl, check, die, need, streamQuery } from './client'

/** `ringcast tail PATTERN...`: one envelope per line as events arrive; reconnects and resumes by id. */
export async function tail(words: string[], flags: Record<string, string>, env: Record<string, string | undefined>): Promise<void> {
  need(words[0], 'PATTERN')
  let lastId: string | undefined = flags.after
  let isFollowing = false
  for (;;) {
    const query = streamQuery(words, lastId === undefined ? { ...flags } : { ...flags, after: lastId })
    let response: Response
    try {
      response = await fetch(`${baseUrl(flags, env)}/v1/events?${query}`, { headers: { Accept: 'text/event-stream', ...authHeaders(flags, env) } })
    } catch (error) {
      // Unreachable at start is an error; once following, a restarting server is waited for.
      if (!isFollowing) die(`cannot reach ${baseUrl(flags, env)}: ${(error as Error).message}`)
      await Bun.sleep(1000)
      continue
    }
    await check(response)
    isFollowing = true
    if (response.status === 204 || !response.body) return
    let buffer = ''
    let isEnd = false
    const decoder = new TextDecoder()
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let cut = buffer.indexOf('\n\n')
        while (cut >= 0) {
          const frame = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const id = /^id: (.*)$/m.exec(frame)?.[1]
          const event = /^event: (.*)$/m.exec(frame)?.[1]
          const data = /^data: (.*)$/m.exec(frame)?.[1]
          if (id !== undefined) lastId = id
          if (event === 'end') isEnd = true
          if (data !== undefined) process.stdout.write(`${event && id === undefined ? `${event} ` : ''}${data}\n`)
          cut = buffer.indexOf('\n\n')
        }
      }
    } catch {
      // The connection was cut (server restarting): resume from the last id.
    }
    if (isEnd) return
    await Bun.sleep(1000)
  }
}
