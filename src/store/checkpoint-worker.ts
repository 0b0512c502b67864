import { Database } from 'bun:sqlite'

/** What the server's thread asks of the checkpoint worker. */
export type ToCheckpointWorker = { kind: 'open'; path: string; synchronous: 'NORMAL' | 'FULL' } | { kind: 'checkpoint' } | { kind: 'close' }

/** What it answers: a checkpoint's frames (in the WAL, and copied into the database), how long it took, and whether another connection's checkpoint kept it from running. */
export type FromCheckpointWorker =
  | { kind: 'checkpointed'; frames: number; copied: number; ms: number; isBusy: boolean }
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
      const started = performance.now()
      // PASSIVE never waits for the writer: it copies what is committed and leaves the rest to the next one.
      const result = db!.query('PRAGMA wal_checkpoint(PASSIVE)').get() as { busy: number; log: number; checkpointed: number }
      answer({ kind: 'checkpointed', frames: result.log, copied: result.checkpointed, ms: performance.now() - started, isBusy: result.busy !== 0 || result.log < 0 })
    } else {
      db?.close()
      db = undefined
      answer({ kind: 'closed' })
    }
  } catch (error) {
    answer({ kind: 'failed', message: String((error as Error)?.message ?? error) })
  }
}
