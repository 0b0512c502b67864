import { RingcastError } from '../core/errors'
import type { Event } from '../core/event'
import { Filter } from '../core/filter'
import type { Hub } from '../core/hub'
import { streamNameProblem } from '../core/pattern'

/** What a replay did, per dead letter (ids of events in `dlq.{group}`). */
export interface ReplayResult {
  replayed: { deadLetter: number; stream: string; id: number; duplicate: boolean }[]
  failed: { deadLetter: number; code: string; message: string }[]
  notFound: number[]
}

/** The group a dead letter belongs to: its name, its DLQ stream, what it reads and its incarnation. */
export interface LetterGroup {
  readonly name: string
  readonly dlqStream: string
  readonly filter: Filter
  readonly config: { readonly createdMs: number }
}

/** A delivery on its way to the DLQ: the event, the attempts it had and why it failed. */
export interface Letter {
  readonly id: number
  readonly event: Event
  readonly attempt: number
  readonly reason: string | null
}

/** What the group's keeper does around a dead letter. */
export interface LetterHooks<G, L> {
  /** The letters are committed to the DLQ stream: settle them (awaited before `bury` resolves). */
  buried(group: G, letters: L[]): void | Promise<void>
  /** Whether a letter whose append failed still waits for it (it is then tried again). */
  isDead(group: G, letter: L): boolean
}

// One replay request reads at most this many dead letters; call again for the rest.
const MAX_REPLAY = 10_000

/**
 * The dead-letter stream `dlq.{group}`: a normal stream of `dead_letter` events whose data is
 * `{event, attempts, reason}`. Appends are idempotent (keyed by group incarnation and event id),
 * so a dead letter re-sent after a crash, or by two nodes, is stored once.
 */
export class DeadLetters<G extends LetterGroup, L extends Letter> {
  private readonly inFlight = new Set<Promise<void>>()
  private readonly burying = new WeakSet<L>()

  constructor(
    private readonly hub: Hub,
    private readonly hooks: LetterHooks<G, L>,
    private readonly onError: (message: string, error: unknown) => void,
  ) {}

  /** Appends the letters to the group's DLQ stream; resolves once committed and settled (retried on failure). */
  bury(group: G, dead: readonly L[]): Promise<void> {
    const fresh = dead.filter((d) => !this.burying.has(d))
    if (fresh.length === 0) return Promise.resolve()
    for (const d of fresh) this.burying.add(d)
    const items = fresh.map((d) => ({
      type: 'dead_letter',
      key: letterKey(group, d.id),
      data: { event: JSON.parse(d.event.json), attempts: d.attempt, reason: d.reason },
    }))
    const done: Promise<void> = this.hub.publish(group.dlqStream, items).then(
      async () => {
        for (const d of fresh) this.burying.delete(d)
        await this.hooks.buried(group, fresh)
      },
      (error) => {
        for (const d of fresh) this.burying.delete(d)
        this.onError(`dead letters to ${group.dlqStream} failed; retrying in 1 s`, error)
        const retry = setTimeout(() => void this.bury(group, fresh.filter((d) => this.hooks.isDead(group, d))), 1000)
        retry.unref?.()
      },
    )
    const tracked = done.finally(() => this.inFlight.delete(tracked))
    this.inFlight.add(tracked)
    return tracked
  }

  /** Resolves when every append in flight has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight])
  }

  /**
   * Republishes dead letters (all retained, or those ids) to their original streams: same type, data and
   * correlationId, new ids, key `replay-{dead letter id}` so replaying one twice within the dedup window stores it once.
   */
  async replay(group: LetterGroup, ids?: readonly number[]): Promise<ReplayResult> {
    const want = ids ? new Set(ids) : null
    const letters: Event[] = []
    const filter = new Filter([group.dlqStream], ['dead_letter'])
    let position = 0
    while (letters.length < MAX_REPLAY) {
      const page = await this.hub.read(filter, position, 1000)
      for (const e of page.events) if (!want || want.has(e.id)) letters.push(e)
      position = page.next
      if (page.isDone) break
    }
    const found = new Set(letters.map((e) => e.id))
    const result: ReplayResult = { replayed: [], failed: [], notFound: want ? [...want].filter((id) => !found.has(id)) : [] }
    const outcomes = await Promise.allSettled(letters.map((letter) => this.republish(group, letter)))
    outcomes.forEach((outcome, i) => {
      const deadLetter = letters[i].id
      if (outcome.status === 'fulfilled') result.replayed.push({ deadLetter, ...outcome.value })
      else {
        const e = outcome.reason instanceof RingcastError ? outcome.reason : new RingcastError('internal', 'Internal error.')
        result.failed.push({ deadLetter, code: e.code, message: e.message })
      }
    })
    return result
  }

  private async republish(group: LetterGroup, letter: Event): Promise<{ stream: string; id: number; duplicate: boolean }> {
    const envelope = letter.envelope()
    const original = (envelope.data as { event?: { id?: unknown; stream?: unknown; type?: unknown; data?: unknown; correlationId?: unknown } } | null)?.event
    if (!original || typeof original.stream !== 'string' || streamNameProblem(original.stream) || typeof original.type !== 'string') {
      throw new RingcastError('bad_request', `Dead letter ${letter.id} does not hold an original event.`)
    }
    // Only letters this group wrote (their key is its own), and only back to a stream the group reads.
    if (envelope.key !== letterKey(group, Number(original.id)) || !group.filter.matchesStream(original.stream)) {
      throw new RingcastError('forbidden', `Dead letter ${letter.id} was not written by group "${group.name}"; it is not replayed.`)
    }
    const item = { type: original.type, data: original.data, key: `replay-${letter.id}`, ...(typeof original.correlationId === 'string' && { correlationId: original.correlationId }) }
    const [r] = await this.hub.publish(original.stream, [item])
    return { stream: original.stream, id: r.duplicate ? r.id : r.event.id, duplicate: r.duplicate }
  }
}

/** The key a group's dead letter is stored under: tied to the group's incarnation and the event, so a re-sent letter is stored once. */
function letterKey(group: LetterGroup, eventId: number): string {
  return `${group.config.createdMs}-${eventId}`
}
