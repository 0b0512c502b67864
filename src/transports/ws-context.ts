import type { Grants } from '../auth/grants'
import type { Filter, Selector } from '../core/filter'
import type { Hub } from '../core/hub'
import type { Metrics } from '../metrics'
import type { Connections } from './connections'
import type { TopicMember, TopicSink } from './topic-sink'
import type { WsPublish } from './wire'

/** The part of Bun's ServerWebSocket the protocol needs. */
export interface WsSocket {
  /** `compress`: deflate it for a socket that negotiated permessage-deflate. */
  send(data: string, compress?: boolean): number
  close(code?: number, reason?: string): void
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  getBufferedAmount(): number
}

/** Who is on a socket: what the limits count against, what it may do, when its token expires. */
export interface WsIdentity {
  client: string
  grants: Grants
  expiresAtMs: number | null
}

/** Turns subscribe and publish frames into filters and events under the HTTP routes' rules (names, grants, depth, rate). */
export interface WsRules {
  filter(identity: WsIdentity, streams: readonly string[], types?: readonly string[], correlationId?: string): Filter
  publish(identity: WsIdentity, frame: WsPublish): Promise<{ id: number; duplicate: boolean }>
}

export interface WsOptions {
  bufferLimit: number
  /** Most subscriptions (event and consume) one socket may hold. */
  maxSubscriptions: number
}

/** Everything a socket's client works with, given at construction: it holds no pointer back to the transport. */
export interface WsClientContext {
  readonly hub: Hub
  readonly connections: Connections
  readonly metrics: Metrics
  readonly options: WsOptions
  readonly rules: WsRules
  /** The shared topic for a selector, created on first use. */
  join(selector: Selector, member: TopicMember): TopicSink
  leave(sink: TopicSink, member: TopicMember): void
}
