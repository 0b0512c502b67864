/** Listeners by event name; `on` returns the function that removes the listener. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners: { [K in keyof Events]?: ((value: Events[K]) => void)[] } = {}

  on<K extends keyof Events>(name: K, fn: (value: Events[K]) => void): () => void {
    ;(this.listeners[name] ??= []).push(fn)
    return () => {
      this.listeners[name] = this.listeners[name]?.filter((f) => f !== fn)
    }
  }

  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const fn of this.listeners[name] ?? []) {
      try {
        fn(value)
      } catch (error) {
        // A throwing listener must not break delivery: report it the way an unhandled error would be.
        setTimeout(() => {
          throw error
        })
      }
    }
  }
}
