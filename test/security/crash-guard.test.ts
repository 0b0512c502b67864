import { expect, test } from 'bun:test'
import { resolve } from 'node:path'

// A serving process installs guardProcess (src/cli/serve.ts): an exception nothing caught is logged, never fatal.
test('an exception thrown in setImmediate, a timer or a promise is logged once each and the process goes on', async () => {
  const guard = resolve(import.meta.dir, '../../src/crash-guard.ts')
  const logger = resolve(import.meta.dir, '../../src/logger.ts')
  const script = `
    import { guardProcess } from ${JSON.stringify(guard)}
    import { Logger } from ${JSON.stringify(logger)}
    guardProcess(new Logger('info'))
    setImmediate(() => { throw new Error('boom in setImmediate') })
    setTimeout(() => { throw new Error('boom in a timer') }, 5)
    Promise.reject(new Error('boom in a promise'))
    setTimeout(() => { console.log('still serving'); process.exit(0) }, 100)
  `
  const proc = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(code).toBe(0)
  expect(stdout).toBe('still serving\n')
  for (const where of ['setImmediate', 'a timer', 'a promise']) expect(stderr).toContain(`boom in ${where}`)
  expect(stderr.match(/still serving/g)?.length).toBe(3)
})
