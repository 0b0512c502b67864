import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BINARY, type BinaryServer, Child, post, requireBinary, startBinary, tempDir } from '../helpers/binary'

// `script` (util-linux) runs a command on a pseudo-terminal, as a person at a terminal would.
async function onTerminal(shell: string, env: Record<string, string> = {}): Promise<{ code: number; screen: string }> {
  const child = new Child(Bun.spawn(['script', '-qec', shell, '/dev/null'], { cwd: dir, env: { ...process.env, TERM: 'xterm', ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  const code = await child.exit(15_000)
  return { code, screen: child.stdout.replaceAll('\r', '') }
}

let server: BinaryServer
let dir: string
let events: any[]
beforeAll(async () => {
  requireBinary()
  dir = tempDir('ringcast-tty-')
  server = await startBinary()
  events = (await post(server.url, 'tty.1', [{ type: 'step', data: { n: 1 } }, { type: 'done', data: 'ok', terminal: true }])).body
})
afterAll(async () => {
  await server?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

describe('tail on a terminal', () => {
  test('prints one coloured line per event: time, stream, #id, type, data', async () => {
    const { code, screen } = await onTerminal(`'${BINARY}' tail tty.1 --after 0 --url ${server.url}`)
    expect(code).toBe(0)
    const time = (e: any) => e.time.slice(11, 23)
    expect(screen).toBe(
      `\x1b[2m${time(events[0])}\x1b[0m \x1b[36mtty.1\x1b[0m \x1b[33m#${events[0].id}\x1b[0m \x1b[1;32mstep\x1b[0m {"n":1}\n` +
        `\x1b[2m${time(events[1])}\x1b[0m \x1b[36mtty.1\x1b[0m \x1b[33m#${events[1].id}\x1b[0m \x1b[1;32mdone\x1b[0m ok\n`,
    )
  })

  test('without colours under NO_COLOR', async () => {
    const { screen } = await onTerminal(`'${BINARY}' tail tty.1 --after 0 --url ${server.url}`, { NO_COLOR: '1' })
    expect(screen.split('\n')[0]).toBe(`${events[0].time.slice(11, 23)} tty.1 #${events[0].id} step {"n":1}`)
  })
})

describe('progress on a terminal', () => {
  test('export to a file shows its progress and a summary on stderr, and the file holds only NDJSON', async () => {
    const file = join(dir, 'tty.ndjson')
    const { code, screen } = await onTerminal(`'${BINARY}' export 'tty.*' --url ${server.url} > '${file}'`)
    expect(code).toBe(0)
    expect(screen).toContain('exported 2 events (')
    // The progress line is cleared (ESC[K) before the summary replaces it.
    expect(screen).toMatch(/\x1b\[Kexported 2 events \(\d+ B\)\x1b\[Kringcast: exported 2 events \(\d+ B\)\n$/)
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual(events)
  })

  test('import from a file draws a bar to 100 % and ends with its summary', async () => {
    const file = join(dir, 'in.ndjson')
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'))
    const { code, screen } = await onTerminal(`'${BINARY}' import --stream tty.copy --url ${server.url} < '${file}'`)
    expect(code).toBe(0)
    expect(screen).toContain('[########################] 100% 2 events')
    expect(screen.trimEnd().endsWith('imported 2 events into 1 stream: 2 stored, 0 duplicates not stored again')).toBe(true)
  })
})
