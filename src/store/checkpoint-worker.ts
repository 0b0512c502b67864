import { Database } from 'bun:sqlite'
import { type CheckpointResult, checkpointPassive } from './wal-checkpoint'

/** What the server's thread asks of the checkpoint worker. */
export type ToCheckpointWorker = { kind: 'open'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'checkpoint' } | { kind: 'close' }

/** What it answers. */
export type FromCheckpointWorker =
  | ({ kind: 'checkpointed' } & CheckpointResult)
  | { kind: 'failed'; message: string }
  | { kind: 'closed' }

declare const self: Worker

// The thread's own connection to the data file: a checkpoint's fsyncs block this thread, never the event loop.
let db: Database | undefined

self.onmessage = ({ data }: MessageEvent<ToCheckpointWorker>) => {
  const answer = (message: FromCheckpointWorker) => self.postMessage(message)
  try {
    if (data.kind === 'open') {
      db = new Database(data.path, { strict: true })
      // A checkpoint syncs as the checkpointing connection's setting says.
      db.exec(`PRAGMA synchronous = ${data.synchronous}`)
    } else if (data.kind === 'checkpoint') {
      answer({ kind: 'checkpointed', ...checkpointPassive(db!) })
    } else {
      db?.close()
      db = undefined
      answer({ kind: 'closed' })
    }
  } catch (error) {
    answer({ kind: 'failed', message: String((error as Error)?.message ?? error) })
  }
}
