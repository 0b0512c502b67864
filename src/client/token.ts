/** A token, or a function that returns a fresh one (called again once the server says the last one expired). */
export type TokenOption = string | (() => string | Promise<string>)

/** @internal Caches the current token; `expire()` makes the next `get()` ask the function again. */
export class Token {
  private current: Promise<string> | undefined

  constructor(private readonly option: TokenOption | undefined) {}

  /** Whether asking again can give a different token. */
  get isRenewable(): boolean {
    return typeof this.option === 'function'
  }

  get(): Promise<string | undefined> {
    const option = this.option
    if (typeof option !== 'function') return Promise.resolve(option)
    // A failed call is not cached: the next get() asks again.
    this.current ??= Promise.resolve(option()).catch((error) => {
      this.current = undefined
      throw error
    })
    return this.current
  }

  expire(): void {
    this.current = undefined
  }
}
