import type { Database } from 'bun:sqlite'

/** One checkpoint: frames in the WAL, frames copied into the database, how long it took, and whether it ran at all. */
export interface CheckpointResult {
  frames: number
  copied: number
  ms: number
  /** Another connection's checkpoint (a backup tool) kept this one from running: its frames say nothing. */
  isBusy: boolean
}

/** A PASSIVE checkpoint on `db`, for the checkpoint thread and for the rest of a held one on the event loop. */
export function checkpointPassive(db: Database): CheckpointResult {
  const started = performance.now()
  // PASSIVE never waits for the writer: it copies what is committed and leaves the rest to the next one.
  const result = db.query('PRAGMA wal_checkpoint(PASSIVE)').get() as { busy: number; log: number; checkpointed: number }
  return { frames: result.log, copied: result.checkpointed, ms: performance.now() - started, isBusy: result.busy !== 0 || result.log < 0 }
}
