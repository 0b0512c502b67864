import { RingcastError } from '../core/errors'
import type { Event } from '../core/event'
import type { WsConsume, WsSettle } from './wire'
import type { WsClient } from './ws-client'

/** One push delivery as a group hands it out. */
export interface PushDelivery {
  readonly event: Event
  readonly attempt: number
  readonly deadlineMs: number
}

export interface SettleResult {
  ok: number[]
  notHeld: number[]
}

/** What the WebSocket protocol needs from consumer groups (groups/Groups implements it). */
export interface GroupsPort {
  /** The group, or throws not_found. */
  known(group: string): { config: { streams: string[] } }
  /** The group, or undefined. */
  get(group: string): { config: { streams: string[] } } | undefined
  consume(group: string, consumer: string, max: number, send: (d: PushDelivery) => void, ended: () => void): { close(): void }
  ack(group: string, consumer: string | null, ids: readonly number[]): Promise<SettleResult>
  nack(group: string, consumer: string | null, ids: readonly number[], delaySec?: number): Promise<SettleResult>
  extend(group: string, consumer: string | null, ids: readonly number[]): Promise<SettleResult>
  term(group: string, consumer: string | null, ids: readonly number[], reason?: string): Promise<SettleResult>
}

interface Consumption {
  group: string
  consumer: string
  handle: { close(): void }
}

/**
 * Consume subscriptions of every socket. Credit-based: a consumer never holds more than `max`
 * unsettled deliveries; a socket that closes releases what it holds for redelivery at once.
 * Settle ops are answered only when they fail.
 */
export class WsConsumers {
  private readonly bySocket = new Map<WsClient, Map<string, Consumption>>()

  constructor(
    private readonly groups: GroupsPort,
    /** Throws unless the socket may work the group (`patterns` undefined: no such group). */
    private readonly authorize: (client: WsClient, group: string, patterns: readonly string[] | undefined) => void,
  ) {}

  consume(client: WsClient, frame: WsConsume): void {
    let subs = this.bySocket.get(client)
    if (subs?.has(frame.sub)) throw new RingcastError('bad_request', `Subscription "${frame.sub}" already exists.`, 'Unsubscribe it first or pick another sub id.')
    this.authorize(client, frame.group, this.groups.get(frame.group)?.config.streams)
    if (!subs) this.bySocket.set(client, (subs = new Map()))
    const sub = frame.sub
    const prefix = `{"op":"delivery","sub":${JSON.stringify(sub)},"event":`
    const consumer = frame.consumer ?? client.id
    // Deliveries start in a later microtask, so `ok` always comes first.
    const handle = this.groups.consume(
      frame.group,
      consumer,
      frame.max ?? 1,
      (d) => client.deliver(`${prefix}${d.event.json},"attempt":${d.attempt},"deadline":"${new Date(d.deadlineMs).toISOString()}"}`),
      () => {
        subs.delete(sub)
        client.reply({ op: 'end', sub })
      },
    )
    subs.set(sub, { group: frame.group, consumer, handle })
    client.reply({ op: 'ok', sub })
  }

  /** ack / nack / extend / term for the socket's consumers of that group; ids none of them holds come back in an error. */
  settle(client: WsClient, frame: WsSettle): void {
    const fail = (error: unknown) => client.error({ ...(frame.ref !== undefined && { ref: frame.ref }), group: frame.group }, error)
    const report = (notHeld: number[]) => {
      if (notHeld.length > 0) fail(new RingcastError('not_held', `${frame.op}: ${notHeld.length} id(s) not held by this socket's consumers of "${frame.group}".`, undefined, { ids: notHeld }))
    }
    const mine = [...(this.bySocket.get(client)?.values() ?? [])].filter((c) => c.group === frame.group)
    const apply = (consumer: string, ids: number[]): Promise<SettleResult> => {
      switch (frame.op) {
        case 'ack':
          return this.groups.ack(frame.group, consumer, ids)
        case 'extend':
          return this.groups.extend(frame.group, consumer, ids)
        case 'nack':
          return this.groups.nack(frame.group, consumer, ids, frame.delay)
        case 'term':
          return this.groups.term(frame.group, consumer, ids, frame.reason)
      }
    }
    void (async () => {
      this.groups.known(frame.group)
      let left = frame.ids
      for (const c of mine) {
        if (left.length === 0) break
        left = (await apply(c.consumer, left)).notHeld
      }
      report(left)
    })().catch(fail)
  }

  /** Ends a consume subscription; false when the socket has none by that id. */
  unsubscribe(client: WsClient, sub: string): boolean {
    const c = this.bySocket.get(client)?.get(sub)
    if (!c) return false
    this.bySocket.get(client)!.delete(sub)
    c.handle.close()
    client.reply({ op: 'ok', sub })
    return true
  }

  /** The socket is gone: everything its consumers hold is released for redelivery at once. */
  closed(client: WsClient): void {
    const subs = this.bySocket.get(client)
    if (!subs) return
    this.bySocket.delete(client)
    for (const c of subs.values()) c.handle.close()
  }
}
