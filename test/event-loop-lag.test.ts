import { afterEach, describe, expect, test } from 'bun:test'
import { EventLoopLag } from '../src/event-loop-lag'
import { startTestServer } from './helpers/start-server'

let lag: EventLoopLag | undefined
afterEach(() => {
  lag?.stop()
  lag = undefined
})

/** Holds the event loop for ms, as a long synchronous pass would. */
function block(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}

/** Resolves once check() holds, polling on the event loop; fails after timeoutMs. */
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await Bun.sleep(5)
  }
}

describe('EventLoopLag', () => {
  test('a blocked event loop shows as lag at least as long as the block', async () => {
    lag = new EventLoopLag(10, 60_000).start()
    await Bun.sleep(30)
    block(200)
    await until(() => lag!.seconds() >= 0.19, 2000)
  })

  test('the figure falls back once a whole window has passed without a block', async () => {
    lag = new EventLoopLag(10, 100).start()
    await Bun.sleep(30)
    block(200)
    await until(() => lag!.seconds() >= 0.19, 2000)
    await until(() => lag!.seconds() < 0.1, 3000)
  })

  test('/metrics exports it as the gauge ringcast_event_loop_lag_seconds', async () => {
    const server = await startTestServer({ 'metrics-public': 'true' })
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text()
      expect(text).toContain('# TYPE ringcast_event_loop_lag_seconds gauge')
      expect(text).toMatch(/^ringcast_event_loop_lag_seconds \d+(\.\d+)?(e-?\d+)?$/m)
    } finally {
      await server.close()
    }
  })
})
