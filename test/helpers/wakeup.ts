/** Lets a reader wait for "something arrived" without polling: `until(ms)` ends at the next `wake()` or after `ms`. */
export class Wakeup {
  private waiters: (() => void)[] = []

  until(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
