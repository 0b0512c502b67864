/** A progress line on stderr, redrawn at most every 100 ms, only when stderr is a terminal. */
export class Progress {
  private drawnAtMs = 0

  constructor(
    private readonly isOn: boolean,
    private readonly render: () => string,
  ) {}

  tick(): void {
    if (!this.isOn) return
    const now = Date.now()
    if (now - this.drawnAtMs < 100) return
    this.drawnAtMs = now
    process.stderr.write(`\r\x1b[K${this.render()}`)
  }

  /** Clears the line, so what follows starts clean. */
  done(): void {
    if (this.isOn) process.stderr.write('\r\x1b[K')
  }
}

/** `[#####-----]  50%` for a known total, else nothing. */
export function bar(done: number, total: number | undefined, width = 24): string {
  if (!total) return ''
  const ratio = Math.min(1, done / total)
  const filled = Math.round(ratio * width)
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% `
}

/** Bytes as `512 B`, `3.2 MB`. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`
}

/** `1 event`, `2 events`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
