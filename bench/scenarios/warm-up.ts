import { sized, type Ctx } from './context.ts'
import { runFanout } from './fanout.ts'
import { streamNames, subsOn } from './scenario.ts'

/**
 * Unmeasured traffic each target serves before the first scenario: publishes to SSE, WebSocket and
 * long-poll subscribers over a few streams. A JavaScript server compiles its hot paths in its first
 * seconds of load; without this the first row would carry that one-time work and the rows after it not.
 */
export async function warmUp(ctx: Ctx): Promise<void> {
  const streams = streamNames('warm', 4)
  const subs = [
    ...subsOn('sse', sized(ctx, 200, 20), streams),
    ...(ctx.target.caps.ws ? subsOn('ws', sized(ctx, 200, 20), streams) : []),
    ...(ctx.target.caps.poll ? subsOn('poll', sized(ctx, 40, 4), streams) : []),
  ]
  await runFanout(ctx, { scenario: 'warm-up', title: 'warm-up', streams, subs, rate: 200, durationMs: sized(ctx, 5_000, 1_000) })
}
