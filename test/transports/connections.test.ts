import { describe, expect, test } from 'bun:test'
import { type Connection, Connections, connectionId } from '../../src/transports/connections'

/** A connection whose client is looked up (as a long-poll's address is) only when asked for; `asked` counts that. */
function conn(client: string, patterns = 1) {
  const c = {
    id: connectionId('poll'),
    transport: 'poll' as const,
    asked: 0,
    get remote() {
      return client
    },
    get client() {
      c.asked++
      return client
    },
    connectedAt: Date.now(),
    patterns: () => Array.from({ length: patterns }, (_, i) => `p.${i}`),
    delivered: 0,
    lastEventAt: null,
    bufferedBytes: () => 0,
    close: () => {},
    expiresAtMs: null,
    expire: () => {},
  }
  return c satisfies Connection
}

const limits = { maxConnections: 100, maxConnectionsPerClient: 3, maxPatternsPerConnection: 10, maxPatternsPerClient: 8 }

describe('Connections counts a client only once a per-client limit could be reached', () => {
  test('below the limit no client is looked up; past it every client is, and the limit holds exactly', () => {
    const connections = new Connections(limits)
    const [a1, a2, b1] = [conn('a'), conn('a'), conn('b')]
    for (const c of [a1, a2, b1]) connections.add(c)
    expect([a1, a2, b1].map((c) => c.asked)).toEqual([0, 0, 0])
    // A fourth connection could make some client's fourth: now each is counted, and a holds 2.
    const a3 = conn('a')
    connections.add(a3)
    expect(a1.asked).toBeGreaterThan(0)
    expect(() => connections.add(conn('a'))).toThrow('This client already holds 3 connections (limit 3).')
    expect(() => connections.checkRoom('a')).toThrow('limit 3')
    connections.checkRoom('b')
    connections.remove(a2)
    connections.add(conn('a'))
    expect(() => connections.add(conn('a'))).toThrow('limit 3')
    expect(connections.size).toBe(4)
  })

  test('back below the limit, a new connection is not looked up again', () => {
    const connections = new Connections(limits)
    const four = [conn('a'), conn('a'), conn('b'), conn('b')]
    for (const c of four) connections.add(c)
    for (const c of four.slice(0, 3)) connections.remove(c)
    const late = conn('c')
    connections.add(late)
    expect(late.asked).toBe(0)
    // Counted ones and uncounted ones still come to the right total once the limit is near again.
    for (const c of [conn('b'), conn('b')]) connections.add(c)
    expect(() => connections.add(conn('b'))).toThrow('This client already holds 3 connections (limit 3).')
  })

  test('a connection removed before it was counted leaves no count behind', () => {
    const connections = new Connections(limits)
    const early = [conn('a'), conn('a'), conn('a')]
    for (const c of early) connections.add(c)
    for (const c of early) connections.remove(c)
    for (const c of [conn('b'), conn('b'), conn('b')]) connections.add(c)
    // Had the removed ones been left counted, a would be refused here.
    connections.add(conn('a'))
    connections.add(conn('a'))
    expect(connections.size).toBe(5)
  })

  test('patterns per client are counted the same way', () => {
    const connections = new Connections(limits)
    const a = conn('a', 4)
    connections.add(a)
    connections.add(conn('b', 3))
    expect(a.asked).toBe(0)
    expect(() => connections.add(conn('a', 5))).toThrow('This client may hold at most 8 patterns over all its connections; it would hold 9.')
    connections.add(conn('b', 5))
    expect(connections.patterns).toBe(12)
    connections.releasePatterns(a, 4)
    connections.add(conn('a', 4))
    expect(connections.patterns).toBe(12)
  })
})
