import { afterAll, beforeAll, expect, test } from 'bun:test'
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BINARY, type BinaryServer, Child, freePort, requireBinary, startBinary, tempDir } from '../helpers/binary'
import { type Example, examplesOf, lineDifference } from './examples'

// The README's ```sh blocks, run in order by bash against a fresh compiled server, as a reader would
// after `npm start` (localhost:8080) and `npm run build` (`npx ringcast` runs dist/ringcast).

const README = resolve(import.meta.dir, '../../README.md')
const PORT = /\b(?:localhost|127\.0\.0\.1):(80\d\d)\b|--port (80\d\d)\b/g

let server: BinaryServer
let dir: string
beforeAll(async () => {
  requireBinary()
  server = await startBinary()
  dir = tempDir('ringcast-readme-')
})
afterAll(async () => {
  await server?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

test('every ```sh example of the README runs as written and prints what the README shows', async () => {
  const examples = examplesOf(readFileSync(README, 'utf8'))
  expect(examples.length).toBeGreaterThan(20)
  const ports = await portsOf(examples)
  const outputs = await runAll(examples, ports)
  const failures: string[] = []
  examples.forEach((example, i) => {
    const out = outputs[i]
    const where = `README.md:${example.line} ${example.command.split('\n')[0]}`
    if (!out) return failures.push(`${where}\n  did not run`)
    if (example.expected === null) {
      if (out.code !== 0) failures.push(`${where}\n  exited ${out.code}:\n${out.lines.join('\n')}`)
      return
    }
    const differences = example.expected.map((line, j) => lineDifference(line, out.lines[j])).filter((d) => d !== null)
    if (out.lines.length > example.expected.length) differences.push(`unexpected lines:\n${out.lines.slice(example.expected.length).join('\n')}`)
    if (differences.length > 0) failures.push(`${where}\n  ${differences.join('\n  ')}`)
  })
  expect(failures).toEqual([])
}, 60_000)

/** localhost:8080 is the test's server; every other port the README names gets a free one. */
async function portsOf(examples: Example[]): Promise<Map<string, number>> {
  const ports = new Map([['8080', server.port]])
  for (const { command } of examples) {
    for (const match of command.matchAll(PORT)) {
      const port = match[1] ?? match[2]
      if (!ports.has(port)) ports.set(port, await freePort())
    }
  }
  return ports
}

/** Runs the examples in one bash, so variables and background servers carry over; returns each one's output and exit code. */
async function runAll(examples: Example[], ports: Map<string, number>): Promise<{ lines: string[]; code: number }[]> {
  // `npx ringcast` is the built binary, as after `npm run build`; exec keeps `kill %1` aimed at the server itself.
  const npx = join(dir, 'npx')
  writeFileSync(npx, `#!/bin/sh\nif [ "$1" = ringcast ]; then shift; exec '${BINARY}' "$@"; fi\nexec npx "$@"\n`)
  chmodSync(npx, 0o755)
  const script = ['exec 2>&1', "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT"]
  examples.forEach((example, i) => {
    let command = example.command.replace(PORT, (text, a, b) => text.replace(a ?? b, String(ports.get(a ?? b))))
    const port = /--port (\d+)/.exec(command)?.[1]
    if (command.trimEnd().endsWith('&')) {
      // A server started in the background: its logs are not output, and the next line waits until it is ready.
      command = `${command.trimEnd().slice(0, -1)} >/dev/null 2>&1 &\nfor _ in $(seq 200); do curl -sf 127.0.0.1:${port}/readyz >/dev/null && break; sleep 0.05; done`
    }
    script.push(`printf '\\n@@start ${i}\\n'`, command, `printf '\\n@@end ${i} %d\\n' $?`)
  })
  const file = join(dir, 'readme.sh')
  writeFileSync(file, `${script.join('\n')}\n`)
  // The CLI's default URL stands for localhost:8080 as the curl lines do.
  const env: Record<string, string> = { PATH: `${dir}:${process.env.PATH}`, HOME: dir, RINGCAST_URL: `http://127.0.0.1:${ports.get('8080')}` }
  const bash = new Child(Bun.spawn(['setsid', 'bash', file], { cwd: dir, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  try {
    await bash.exit(50_000)
  } finally {
    // setsid made bash a process group leader: this also ends anything it left running.
    try {
      process.kill(-bash.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  const outputs: { lines: string[]; code: number }[] = []
  for (const match of bash.stdout.matchAll(/\n@@start (\d+)\n([\s\S]*?)\n@@end \1 (\d+)\n/g)) {
    const lines = match[2].split('\n')
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    outputs[Number(match[1])] = { lines, code: Number(match[3]) }
  }
  return outputs
}
