import type { Database, Statement } from 'bun:sqlite'
import type { FromCheckpointWorker, ToCheckpointWorker } from './checkpoint-worker'
import { type CheckpointResult, checkpointPassive } from './wal-checkpoint'

/** How often the data file is looked at for new writes; a checkpoint copies what this long brought at once. */
const INTERVAL_MS = 250
/** Past this many frames in the WAL (about 16 MB), checkpoints chase the writes until the WAL can start over. */
const RESTART_FRAMES = 4096
/** A checkpoint this quick means the next one, copying only what came meanwhile, is quick too: writes may wait for it. */
const SHORT_MS = 50
/** Checkpoints in a row that chase the writes before writes wait anyway (a disk slower than the writes). */
const MAX_CHASES = 4
/** The longest writes wait; on a disk that slow the WAL starts over at a later try. */
const HOLD_MAX_MS = 1000

/** What the checkpoints did so far, for /metrics. */
export interface CheckpointStats {
  checkpoints: number
  seconds: number
  /** Times writes waited for a checkpoint to catch up. */
  holds: number
  /** Frames in the WAL at the last checkpoint. */
  walFrames: number
}

/**
 * Checkpoints the WAL on a worker thread with a connection of its own. SQLite's automatic checkpoint runs in the
 * commit that crosses its threshold, on the event loop, and its fsyncs stalled every connection for milliseconds
 * (tens on a busy disk) a few times a second under steady publishing.
 *
 * A checkpoint copies what was committed when it began; while commits keep coming it never catches up, and the
 * WAL can only start over once one has. So once the WAL is past RESTART_FRAMES, checkpoints run back to back, each
 * copying what came during the last, until one is quick; then appends are held (they wait, the event loop does
 * not) for one more, after which the next commit starts the WAL from its beginning. The few writes that are not
 * held (consumer groups, retention) may still land during it; then the thread tries once more, and if they land
 * again the small rest is copied here, on the event loop, so the WAL is bounded whatever writes it.
 */
export class Checkpointer {
  readonly stats: CheckpointStats = { checkpoints: 0, seconds: 0, holds: 0, walFrames: 0 }
  private worker: Worker | undefined
  private readonly timer: ReturnType<typeof setInterval>
  private readonly totalChanges: Statement
  // Rows changed by this connection at the last checkpoint's start, counted by SQLite (every writer of the file's connection).
  private changesAtStart = 0
  private isRunning = false
  private isPassHeld = false
  private chases = 0
  private isRetried = false
  private hold: { promise: Promise<void>; release(): void } | undefined
  private closed: (() => void) | undefined

  constructor(
    private readonly db: Database,
    path: string,
    synchronous: 'NORMAL' | 'FULL',
    private readonly onProblem: (message: string) => void,
  ) {
    db.exec('PRAGMA wal_autocheckpoint = 0')
    this.totalChanges = db.prepare('SELECT total_changes() AS n')
    this.changesAtStart = this.changes()
    const worker = new Worker(workerUrl())
    worker.onmessage = ({ data }: MessageEvent<FromCheckpointWorker>) => this.answered(data)
    worker.onerror = (event) => this.fail(event.message)
    // The worker never keeps the process alive: stop() closes it, an exit just drops it.
    worker.unref()
    this.worker = worker
    this.post({ kind: 'open', path, synchronous })
    this.timer = setInterval(() => this.tick(), INTERVAL_MS)
    this.timer.unref()
  }

  /** Set while writes should wait for a catching-up checkpoint. */
  held(): Promise<void> | undefined {
    return this.hold?.promise
  }

  /** Closes the worker's connection (after a checkpoint under way) and ends the thread. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    const worker = this.worker
    // From here on the worker's answers are ignored, but for `closed`.
    this.worker = undefined
    this.releaseHold()
    if (worker) {
      const closed = new Promise<void>((resolve) => (this.closed = resolve))
      worker.postMessage({ kind: 'close' } satisfies ToCheckpointWorker)
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000).unref())])
      worker.terminate()
    }
    this.totalChanges.finalize()
  }

  private changes(): number {
    return (this.totalChanges.get() as { n: number }).n
  }

  /** Each tick: a checkpoint if anything was written since the last began. */
  private tick(): void {
    if (this.worker && !this.isRunning && this.changes() !== this.changesAtStart) this.start(false)
  }

  private start(isHeld: boolean): void {
    this.changesAtStart = this.changes()
    this.isRunning = true
    this.isPassHeld = isHeld
    if (isHeld) {
      const { promise, resolve } = Promise.withResolvers<void>()
      const hold = { promise, release: resolve }
      this.hold = hold
      this.stats.holds++
      setTimeout(() => this.hold === hold && this.releaseHold(), HOLD_MAX_MS).unref()
    }
    this.post({ kind: 'checkpoint' })
  }

  private answered(message: FromCheckpointWorker): void {
    if (message.kind === 'closed') return this.closed?.()
    if (!this.worker) return
    if (message.kind === 'failed') return this.fail(message.message)
    this.isRunning = false
    this.releaseHold()
    // Another connection checkpointing (a backup tool) leaves nothing to count: the next tick tries again.
    if (message.isBusy) return
    this.record(message)
    const isWrittenMeanwhile = this.changes() !== this.changesAtStart
    // The next commit starts the WAL over only if this checkpoint copied all of it and nothing was written since.
    if ((message.copied === message.frames && !isWrittenMeanwhile) || message.frames < RESTART_FRAMES) {
      this.chases = 0
      this.isRetried = false
      return
    }
    if (this.isPassHeld) {
      // A reader pinning the WAL (nothing written meanwhile) is waited out tick by tick, never holding writes for good.
      if (!isWrittenMeanwhile) return
      if (!this.isRetried) {
        this.isRetried = true
        return this.start(true)
      }
      this.isRetried = false
      return this.copyRestHere()
    }
    this.start(message.ms <= SHORT_MS || ++this.chases >= MAX_CHASES)
  }

  /** What the unheld writes added during a held checkpoint, copied on this thread: nothing can write meanwhile. */
  private copyRestHere(): void {
    const result = checkpointPassive(this.db)
    this.chases = 0
    if (!result.isBusy) this.record(result)
  }

  private record(result: CheckpointResult): void {
    this.stats.checkpoints++
    this.stats.seconds += result.ms / 1000
    this.stats.walFrames = result.frames
  }

  private releaseHold(): void {
    const hold = this.hold
    this.hold = undefined
    hold?.release()
  }

  /** The worker cannot checkpoint: SQLite's own checkpoints take over, on this thread, as before. */
  private fail(message: string): void {
    // After stop() the worker's end is all that is awaited.
    if (!this.worker) return this.closed?.()
    this.onProblem(`checkpoint worker failed, checkpointing on the main thread from now on: ${message}`)
    this.db.exec('PRAGMA wal_autocheckpoint = 1000')
    clearInterval(this.timer)
    this.worker.terminate()
    this.worker = undefined
    this.isRunning = false
    this.releaseHold()
  }

  private post(message: ToCheckpointWorker): void {
    this.worker?.postMessage(message)
  }
}

/** In the compiled binary the worker is its own entry point (package.json's build), found from the bundle's root. */
function workerUrl(): string {
  return Bun.main.startsWith('/$bunfs/') ? './store/checkpoint-worker.ts' : new URL('./checkpoint-worker.ts', import.meta.url).href
}
