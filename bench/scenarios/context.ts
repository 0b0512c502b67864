import type { Pool } from '../gen/pool.ts'
import type { Server } from '../servers/server.ts'
import type { Target } from '../targets/target.ts'

/** What a scenario gets: the server under test, its adapter (and one per node of a cluster), the generator workers and the run's size. */
export interface Ctx {
  server: Server
  target: Target
  nodes: Target[]
  pool: Pool
  isQuick: boolean
  /** --repeat: which run of the scenario on this server this is (0 first); later runs use streams of their own. */
  round?: number
}

/** Full-run size, or the --quick one (CI keeps the suite from rotting, not its numbers). */
export const sized = <T>(ctx: Ctx, full: T, quick: T): T => (ctx.isQuick ? quick : full)
