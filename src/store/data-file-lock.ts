import { Database } from 'bun:sqlite'
import { readlinkSync, realpathSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

/** Thrown when another process holds the data file. */
export class DataFileInUseError extends Error {
  constructor(readonly path: string) {
    super(`data file ${path} is in use by another process (is another ringcast running on it?)`)
  }
}

/**
 * Holds `<path>-lock` while the server runs, so a second server on the same data file refuses to start; the OS
 * drops the lock if the process dies. The data file itself stays open to other connections: the checkpoint
 * worker's, or a backup's. The lock is named after the file's real path, as SQLite names its WAL: a symlink to the
 * file or to its folder is the same file (a hard link under another name is not recognised).
 */
export function lockDataFile(path: string): Database {
  const lock = new Database(`${realPathOf(path)}-lock`, { create: true })
  try {
    // A transaction left open holds SQLite's exclusive lock on the file until the connection closes; it writes nothing, so no journal.
    lock.exec('PRAGMA journal_mode = MEMORY')
    lock.exec('BEGIN EXCLUSIVE')
  } catch (error) {
    lock.close()
    if (isLocked(error)) throw new DataFileInUseError(path)
    throw error
  }
  return lock
}

/** Whether SQLite refused a file because another connection holds its lock. */
export function isLocked(error: unknown): boolean {
  return String(error).includes('locked')
}

/** The path with every symlink resolved; for a file not created yet (a dangling symlink too), its folder's. */
function realPathOf(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    let target = path
    // SQLite creates the file a dangling symlink points to: the lock must be named after that file.
    for (let hops = 0; hops < 40; hops++) {
      try {
        target = resolve(dirname(target), readlinkSync(target))
      } catch {
        break // not a symlink
      }
    }
    try {
      return join(realpathSync(dirname(target)), basename(target))
    } catch {
      return path // no such folder: opening the database says so
    }
  }
}
