import { RingcastError } from '../core/errors'

export type Transport = 'sse' | 'ws' | 'poll'

/** A live subscription as /v1/connections lists it. */
export interface Connection {
  readonly id: string
  readonly transport: Transport
  readonly remote: string
  /** Who the limits count it against: the token's subject, else the remote address. */
  readonly client: string
  readonly connectedAt: number
  patterns(): string[]
  delivered: number
  lastEventAt: number | null
  bufferedBytes(): number
  /** Ends the connection from the server side; the client may resume by id. `code` is a WebSocket close code. */
  close(reason: string, code?: number): void
  /** When its credential expires (epoch ms); the connection is then ended with `expire()`. */
  readonly expiresAtMs: number | null
  /** Ends the connection because its token expired (SSE `event: expired`, WebSocket 4001). */
  expire(): void
}

export interface ConnectionLimits {
  maxConnections: number
  maxConnectionsPerClient: number
  /** Patterns one connection may hold over all its subscriptions (a WebSocket holds many). */
  maxPatternsPerConnection: number
  /** Patterns one client may hold over all its connections: the caps above must not multiply. */
  maxPatternsPerClient: number
}

/** Told of each connection as it opens and as it ends (the debug connection log). */
export interface ConnectionObserver {
  opened(connection: Connection): void
  closed(connection: Connection): void
}

let sequence = 0

// A per-process prefix keeps ids from one run apart from a previous run's in logs and dashboards.
const RUN = Math.random().toString(36).slice(2, 6)

/** A short unique id for a new connection. */
export function connectionId(transport: Transport): string {
  return `${transport}-${RUN}${++sequence}`
}

/** What the registry holds for one live connection. */
interface Held {
  patterns: number
  /** Counted against its client (in perClient and patternsPerClient): not in `uncounted`, read without a lookup on every long-poll. */
  isCounted: boolean
  expiry: ReturnType<typeof setTimeout> | undefined
}

/** Every live subscription, with the global and per-client caps enforced at open. */
export class Connections {
  // Keyed by the connection itself: a long-poll opens and closes one per round trip, and needs no id for it.
  private readonly live = new Map<Connection, Held>()
  // Kept as they change: sampled every second, where walking every connection would cost.
  private readonly byTransport: Record<Transport, number> = { sse: 0, ws: 0, poll: 0 }
  private readonly perClient = new Map<string, number>()
  private readonly patternsPerClient = new Map<string, number>()
  private patternTotal = 0
  // Connections not yet counted against their client. A client holds no more than every connection together, so
  // below a per-client limit there is nothing to count; a long-poll's address, a syscall, is looked up only past it.
  private readonly uncounted = new Set<Connection>()

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly observer?: ConnectionObserver,
  ) {}

  get size(): number {
    return this.live.size
  }

  /** Patterns held by every live connection together. */
  get patterns(): number {
    return this.patternTotal
  }

  /** Registers a connection with the patterns it holds, or throws too_many_connections / too_many_client_connections / too_many_patterns. */
  add(connection: Connection): void {
    const n = connection.patterns().length
    this.checkRoomFor(connection)
    this.checkPatternsFor(connection, 0, n)
    const held: Held = { patterns: 0, isCounted: false, expiry: undefined }
    this.live.set(connection, held)
    this.byTransport[connection.transport]++
    this.uncounted.add(connection)
    if (connection.expiresAtMs !== null) this.arm(connection, held, connection.expiresAtMs)
    this.hold(connection, held, n)
    this.observer?.opened(connection)
  }

  /** A live connection takes `n` more patterns (a WebSocket subscribe), or throws too_many_patterns. */
  holdPatterns(connection: Connection, n: number): void {
    const held = this.live.get(connection)
    if (!held) return
    this.checkPatterns(connection, n)
    this.hold(connection, held, n)
  }

  /** Holds `n` more patterns for a connection already checked for them. */
  private hold(connection: Connection, held: Held, n: number): void {
    held.patterns += n
    if (held.isCounted) add(this.patternsPerClient, connection.client, n)
    this.patternTotal += n
  }

  /** A live connection gives `n` patterns back (a WebSocket unsubscribe). */
  releasePatterns(connection: Connection, n: number): void {
    const held = this.live.get(connection)
    if (held) this.release(connection, held, n)
  }

  private release(connection: Connection, held: Held, n: number): void {
    const given = Math.min(n, held.patterns)
    held.patterns -= given
    this.patternTotal -= given
    if (held.isCounted) add(this.patternsPerClient, connection.client, -given)
  }

  /** Throws as `holdPatterns` would, without holding: lets a subscribe be refused before its filter is built. */
  checkPatterns(connection: Connection, n: number): void {
    this.checkPatternsFor(connection, this.live.get(connection)?.patterns ?? 0, n)
  }

  private checkPatternsFor(connection: Connection, held: number, n: number): void {
    const own = held + n
    if (own > this.limits.maxPatternsPerConnection) {
      throw new RingcastError('too_many_patterns', `A connection may hold at most ${this.limits.maxPatternsPerConnection} patterns over all its subscriptions; this one would hold ${own}.`, 'Unsubscribe some, or use broader patterns (team.7.**).')
    }
    if (this.patternTotal + n <= this.limits.maxPatternsPerClient) return
    this.countAll()
    const client = (this.patternsPerClient.get(connection.client) ?? 0) + n
    if (client > this.limits.maxPatternsPerClient) {
      throw new RingcastError('too_many_patterns', `This client may hold at most ${this.limits.maxPatternsPerClient} patterns over all its connections; it would hold ${client}.`, 'Close some subscriptions, or use broader patterns.')
    }
  }

  /** Throws as `add` would, without registering: lets a WebSocket upgrade be refused with a status. */
  checkRoom(client: string): void {
    this.checkRoomFor({ client })
  }

  /** `who.client` is read only past the per-client limit: a long-poll's is a syscall. */
  private checkRoomFor(who: { readonly client: string }): void {
    if (this.live.size >= this.limits.maxConnections) {
      throw new RingcastError('too_many_connections', `The server holds its maximum of ${this.limits.maxConnections} connections.`, 'Retry later or connect to another node.')
    }
    if (this.live.size < this.limits.maxConnectionsPerClient) return
    this.countAll()
    const held = this.perClient.get(who.client) ?? 0
    if (held >= this.limits.maxConnectionsPerClient) {
      throw new RingcastError('too_many_client_connections', `This client already holds ${held} connections (limit ${this.limits.maxConnectionsPerClient}).`, 'Close some, or multiplex several streams over one WebSocket or one /v1/events subscription.')
    }
  }

  /** Counts every connection not yet counted against its client: due before any per-client limit is checked. */
  private countAll(): void {
    for (const c of this.uncounted) {
      const held = this.live.get(c)!
      held.isCounted = true
      add(this.perClient, c.client, 1)
      add(this.patternsPerClient, c.client, held.patterns)
    }
    this.uncounted.clear()
  }

  private arm(connection: Connection, held: Held, atMs: number): void {
    // setTimeout holds at most ~24.8 days: a longer wait is done in steps.
    const delay = Math.min(Math.max(0, atMs - Date.now()), 2 ** 31 - 1)
    held.expiry = setTimeout(() => (Date.now() >= atMs ? connection.expire() : this.arm(connection, held, atMs)), delay)
  }

  remove(connection: Connection): void {
    const held = this.live.get(connection)
    if (!held) return
    this.live.delete(connection)
    this.byTransport[connection.transport]--
    this.release(connection, held, held.patterns)
    if (held.expiry !== undefined) clearTimeout(held.expiry)
    if (held.isCounted) add(this.perClient, connection.client, -1)
    else this.uncounted.delete(connection)
    this.observer?.closed(connection)
  }

  has(connection: Connection): boolean {
    return this.live.has(connection)
  }

  /** The live connection with this id; walks them all, which only an operator's request does. */
  get(id: string): Connection | undefined {
    for (const c of this.live.keys()) if (c.id === id) return c
    return undefined
  }

  all(): IterableIterator<Connection> {
    return this.live.keys()
  }

  countBy(transport: Transport): number {
    return this.byTransport[transport]
  }

  closeAll(reason: string, code?: number): void {
    for (const c of [...this.live.keys()]) c.close(reason, code)
  }
}

/** Adds `n` to a count in `counts`; a count that reaches 0 is dropped. */
function add(counts: Map<string, number>, key: string, n: number): void {
  const value = (counts.get(key) ?? 0) + n
  if (value > 0) counts.set(key, value)
  else counts.delete(key)
}
