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

/** Every live subscription, with the global and per-client caps enforced at open. */
export class Connections {
  private readonly byId = new Map<string, Connection>()
  // Kept as they change: sampled every second, where walking every connection would cost.
  private readonly byTransport: Record<Transport, number> = { sse: 0, ws: 0, poll: 0 }
  private readonly perClient = new Map<string, number>()
  private readonly expiry = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly patternsOf = new Map<string, number>()
  private readonly patternsPerClient = new Map<string, number>()
  private patternTotal = 0
  // Connections not yet counted against their client. A client holds no more than every connection together, so
  // below a per-client limit there is nothing to count; a long-poll's address, a syscall, is looked up only past it.
  private readonly unkeyed = new Set<Connection>()

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly observer?: ConnectionObserver,
  ) {}

  get size(): number {
    return this.byId.size
  }

  /** Patterns held by every live connection together. */
  get patterns(): number {
    return this.patternTotal
  }

  /** Registers a connection with the patterns it holds, or throws too_many_connections / too_many_client_connections / too_many_patterns. */
  add(connection: Connection): void {
    const n = connection.patterns().length
    this.checkRoomFor(() => connection.client)
    this.checkPatterns(connection, n)
    this.byId.set(connection.id, connection)
    this.byTransport[connection.transport]++
    this.unkeyed.add(connection)
    if (connection.expiresAtMs !== null) this.arm(connection, connection.expiresAtMs)
    this.countPatterns(connection, n)
    this.observer?.opened(connection)
  }

  /** A live connection takes `n` more patterns (a WebSocket subscribe), or throws too_many_patterns. */
  holdPatterns(connection: Connection, n: number): void {
    this.checkPatterns(connection, n)
    this.countPatterns(connection, n)
  }

  /** Holds `n` more patterns for a connection already checked for them. */
  private countPatterns(connection: Connection, n: number): void {
    this.patternsOf.set(connection.id, (this.patternsOf.get(connection.id) ?? 0) + n)
    if (!this.unkeyed.has(connection)) this.patternsPerClient.set(connection.client, (this.patternsPerClient.get(connection.client) ?? 0) + n)
    this.patternTotal += n
  }

  /** A live connection gives `n` patterns back (a WebSocket unsubscribe). */
  releasePatterns(connection: Connection, n: number): void {
    const held = this.patternsOf.get(connection.id)
    if (held === undefined) return
    const given = Math.min(n, held)
    this.patternsOf.set(connection.id, held - given)
    this.patternTotal -= given
    if (this.unkeyed.has(connection)) return
    const client = (this.patternsPerClient.get(connection.client) ?? given) - given
    if (client <= 0) this.patternsPerClient.delete(connection.client)
    else this.patternsPerClient.set(connection.client, client)
  }

  /** Throws as `holdPatterns` would, without holding: lets a subscribe be refused before its filter is built. */
  checkPatterns(connection: Connection, n: number): void {
    const own = (this.patternsOf.get(connection.id) ?? 0) + n
    if (own > this.limits.maxPatternsPerConnection) {
      throw new RingcastError('too_many_patterns', `A connection may hold at most ${this.limits.maxPatternsPerConnection} patterns over all its subscriptions; this one would hold ${own}.`, 'Unsubscribe some, or use broader patterns (team.7.**).')
    }
    // A client holds no more than every connection together: below its limit, there is nothing to count.
    if (this.patternTotal + n <= this.limits.maxPatternsPerClient) return
    this.keyAll()
    const client = (this.patternsPerClient.get(connection.client) ?? 0) + n
    if (client > this.limits.maxPatternsPerClient) {
      throw new RingcastError('too_many_patterns', `This client may hold at most ${this.limits.maxPatternsPerClient} patterns over all its connections; it would hold ${client}.`, 'Close some subscriptions, or use broader patterns.')
    }
  }

  /** Throws as `add` would, without registering: lets a WebSocket upgrade be refused with a status. */
  checkRoom(client: string): void {
    this.checkRoomFor(() => client)
  }

  private checkRoomFor(client: () => string): void {
    if (this.byId.size >= this.limits.maxConnections) {
      throw new RingcastError('too_many_connections', `The server holds its maximum of ${this.limits.maxConnections} connections.`, 'Retry later or connect to another node.')
    }
    if (this.byId.size < this.limits.maxConnectionsPerClient) return
    this.keyAll()
    const held = this.perClient.get(client()) ?? 0
    if (held >= this.limits.maxConnectionsPerClient) {
      throw new RingcastError('too_many_client_connections', `This client already holds ${held} connections (limit ${this.limits.maxConnectionsPerClient}).`, 'Close some, or multiplex several streams over one WebSocket or one /v1/events subscription.')
    }
  }

  /** Counts every connection not yet counted against its client: due before any per-client limit is checked. */
  private keyAll(): void {
    for (const c of this.unkeyed) {
      this.perClient.set(c.client, (this.perClient.get(c.client) ?? 0) + 1)
      const held = this.patternsOf.get(c.id) ?? 0
      if (held > 0) this.patternsPerClient.set(c.client, (this.patternsPerClient.get(c.client) ?? 0) + held)
    }
    this.unkeyed.clear()
  }

  private arm(connection: Connection, atMs: number): void {
    // setTimeout holds at most ~24.8 days: a longer wait is done in steps.
    const delay = Math.min(Math.max(0, atMs - Date.now()), 2 ** 31 - 1)
    const timer = setTimeout(() => (Date.now() >= atMs ? connection.expire() : this.arm(connection, atMs)), delay)
    this.expiry.set(connection.id, timer)
  }

  remove(connection: Connection): void {
    if (!this.byId.delete(connection.id)) return
    this.byTransport[connection.transport]--
    this.releasePatterns(connection, this.patternsOf.get(connection.id) ?? 0)
    this.patternsOf.delete(connection.id)
    clearTimeout(this.expiry.get(connection.id))
    this.expiry.delete(connection.id)
    if (!this.unkeyed.delete(connection)) {
      const held = (this.perClient.get(connection.client) ?? 1) - 1
      if (held <= 0) this.perClient.delete(connection.client)
      else this.perClient.set(connection.client, held)
    }
    this.observer?.closed(connection)
  }

  get(id: string): Connection | undefined {
    return this.byId.get(id)
  }

  all(): IterableIterator<Connection> {
    return this.byId.values()
  }

  countBy(transport: Transport): number {
    return this.byTransport[transport]
  }

  closeAll(reason: string, code?: number): void {
    for (const c of [...this.byId.values()]) c.close(reason, code)
  }
}
