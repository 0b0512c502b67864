/** A long-poll claim waiting for work: whoever takes work for it answers it through `done`. */
export interface Parked<T> {
  done(deliveries: T[]): void
}

/**
 * Parks `waiter` in `queue` until it is answered, `waitMs` passes or `signal` aborts; the last two
 * take it out and answer it empty, unless `mayLeave` says an answer is already on its way.
 */
export function park<T, W extends Parked<T>>(queue: W[], fields: Omit<W, 'done'>, waitMs: number, signal: AbortSignal | undefined, mayLeave: (waiter: W) => boolean = () => true): Promise<T[]> {
  return new Promise((resolve) => {
    const waiter = {
      ...fields,
      done: (deliveries: T[]) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', leave)
        resolve(deliveries)
      },
    } as W
    const leave = () => {
      if (!mayLeave(waiter)) return
      const at = queue.indexOf(waiter)
      if (at >= 0) queue.splice(at, 1)
      waiter.done([])
    }
    const timer = setTimeout(leave, waitMs)
    signal?.addEventListener('abort', leave)
    queue.push(waiter)
  })
}
