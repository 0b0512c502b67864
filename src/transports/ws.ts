import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Grants } from '../auth/grants'
import { RingcastError } from '../core/errors'
import { type Filter, Selector } from '../core/filter'
import type { Hub } from '../core/hub'
import type { Metrics } from '../metrics'
import { invalid } from '../validation'
import type { Connections } from './connections'
import { TopicSink } from './topic-sink'
import { WsAck, WsConsume, WsExtend, WsNack, WsPing, WsPublish, type WsSettle, WsSubscribe, WsTerm, WsUnsubscribe } from './wire'
import { WsClient, type WsSocket } from './ws-client'
import type { WsConsumers } from './ws-consumer'

export interface WsOptions {
  bufferLimit: number
  /** Most subscriptions one socket may hold. */
  maxSubscriptions: number
}

/** Who is on a socket: what the limits count against, what it may do, when its token expires. */
export interface WsIdentity {
  client: string
  grants: Grants
  expiresAtMs: number | null
}

/** Turns subscribe and publish frames into filters and events under the HTTP routes' rules (names, grants, rate). */
export interface WsRules {
  filter(identity: WsIdentity, streams: readonly string[], types?: readonly string[], correlationId?: string): Filter
  publish(identity: WsIdentity, frame: WsPublish): Promise<{ id: number; duplicate: boolean }>
}

const checks = {
  subscribe: TypeCompiler.Compile(WsSubscribe),
  unsubscribe: TypeCompiler.Compile(WsUnsubscribe),
  publish: TypeCompiler.Compile(WsPublish),
  ping: TypeCompiler.Compile(WsPing),
  consume: TypeCompiler.Compile(WsConsume),
  ack: TypeCompiler.Compile(WsAck),
  nack: TypeCompiler.Compile(WsNack),
  extend: TypeCompiler.Compile(WsExtend),
  term: TypeCompiler.Compile(WsTerm),
}

/** The multiplexed WebSocket protocol over the hub. */
export class WsTransport {
  private readonly sinks = new Map<string, TopicSink>()
  private topics = 0
  private publishFrame: (topic: string, frame: string) => number = () => 0
  private readonly clients = new Set<WsClient>()
  private consumers: WsConsumers | undefined

  constructor(
    readonly hub: Hub,
    readonly connections: Connections,
    readonly metrics: Metrics,
    readonly options: WsOptions,
    readonly rules: WsRules,
  ) {}

  /** Set once the server listens: Bun's `server.publish`. */
  usePublish(publish: (topic: string, frame: string) => number): void {
    this.publishFrame = publish
  }

  /** Enables the consumer-group ops (consume, ack, nack, extend, term). */
  useConsumers(consumers: WsConsumers): void {
    this.consumers = consumers
  }

  open(socket: WsSocket, remote: string, identity: WsIdentity): WsClient {
    const ws = new WsClient(this, socket, remote, identity)
    this.connections.add(ws)
    this.clients.add(ws)
    return ws
  }

  /** Handles one client frame; every failure is an `error` reply, never a dropped socket. */
  message(client: WsClient, raw: unknown): void {
    let frame: unknown = raw
    if (typeof raw === 'string') {
      try {
        frame = JSON.parse(raw)
      } catch {
        return client.error({}, new RingcastError('bad_request', 'Frame is not valid JSON.', 'Send one JSON object per text frame.'))
      }
    } else if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) {
      return client.error({}, new RingcastError('bad_request', 'Binary frames are not part of the protocol.', 'Send JSON text frames.'))
    }
    const op = typeof frame === 'object' && frame !== null ? (frame as { op?: unknown }).op : undefined
    const check = typeof op === 'string' ? checks[op as keyof typeof checks] : undefined
    const ids = pickIds(frame)
    if (!check) return client.error(ids, new RingcastError('bad_request', `Unknown op ${JSON.stringify(op)}.`, 'Use subscribe, unsubscribe, publish, ping, consume, ack, nack, extend or term.'))
    if (!check.Check(frame)) {
      return client.error(ids, invalid(check.Errors(frame).First(), { code: 'invalid_body', root: `the ${op} frame`, hint: 'See /docs for the WebSocket protocol.' }))
    }
    try {
      switch (op) {
        case 'subscribe':
          return client.subscribe(frame as WsSubscribe)
        case 'unsubscribe':
          if (this.consumers?.unsubscribe(client, (frame as { sub: string }).sub)) return
          return client.unsubscribe((frame as { sub: string }).sub)
        case 'publish':
          return client.publish(frame as WsPublish)
        case 'ping':
          return client.reply({ op: 'pong', ...ids })
        case 'consume':
          return this.groupOps().consume(client, frame as WsConsume)
        default:
          return this.groupOps().settle(client, frame as WsSettle)
      }
    } catch (error) {
      client.error(ids, error)
    }
  }

  drain(client: WsClient): void {
    client.drained()
  }

  close(client: WsClient): void {
    this.consumers?.closed(client)
    client.dispose()
    this.clients.delete(client)
  }

  private groupOps(): WsConsumers {
    if (!this.consumers) throw new RingcastError('bad_request', 'Consumer groups are not enabled on this server.')
    return this.consumers
  }

  /** Subscriptions that named exactly these streams end. */
  ended(streams: readonly string[]): void {
    for (const client of this.clients) client.endClosed(streams)
  }

  /** The shared topic for a selector, attached to the hub on first use. */
  join(selector: Selector, member: WsClient): TopicSink {
    let sink = this.sinks.get(selector.key)
    if (!sink) {
      sink = new TopicSink(`t${++this.topics}`, (t, f) => this.publishFrame(t, f), this.options.bufferLimit, (n) => (this.metrics.deliveries.ws += n))
      sink.feed = this.hub.subscribe(selector, sink)
      this.sinks.set(selector.key, sink)
    }
    sink.members.add(member)
    return sink
  }

  leave(sink: TopicSink, member: WsClient): void {
    sink.members.delete(member)
    if (sink.members.size > 0) return
    if (sink.feed) this.hub.unsubscribe(sink.feed, sink)
    for (const [key, s] of this.sinks) if (s === sink) this.sinks.delete(key)
  }
}

function pickIds(frame: unknown): { ref?: string; sub?: string } {
  if (typeof frame !== 'object' || frame === null) return {}
  const { ref, sub } = frame as { ref?: unknown; sub?: unknown }
  const ids: { ref?: string; sub?: string } = {}
  if (typeof ref === 'string') ids.ref = ref
  if (typeof sub === 'string') ids.sub = sub
  return ids
}

