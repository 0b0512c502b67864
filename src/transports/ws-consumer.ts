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

/** What the WebSocket protocol needs from consumer groups (both implementations of groups/ConsumerGroups fit it). */
export interface GroupsPort {
  /** The patterns the group reads, or undefined when there is no such group. */
  patterns(group: string): Promise<readonly string[] | undefined>
  consume(group: string, consumer: string, max: number, send: (d: PushDelivery) => void, ended: () => void): Promise<{ close(): void }>
  ack(group: string, consumer: string | null, ids: readonly number[]): Promise<SettleResult>
  nack(group: string, consumer: string | null, ids: readonly number[], delaySec?: number): Promise<SettleResult>
  /** Also says the lease deadline of the ids taken. */
  extend(group: string, consumer: string | null, ids: readonly number[]): Promise<SettleResult & { deadlineMs: number }>
  term(group: string, consumer: string | null, ids: readonly number[], reason?: string): Promise<SettleResult>
}

/**
 * The consume and settle ops of every socket. Credit-based: a consumer never holds more than `max`
 * unsettled deliveries; a socket that closes releases what it holds for redelivery at once (its
 * consume subscriptions live in the socket's own registry of sub ids). Settle ops are answered only when they fail.
 */
export class WsConsumers {
  constructor(
    private readonly groups: GroupsPort,
    /** Throws unless the socket may work the group (`patterns` undefined: no such group). */
    private readonly authorize: (client: WsClient, group: string, patterns: readonly string[] | undefined) => void,
    /** Whether the socket is still open (it may close while the group is looked up). */
    private readonly isOpen: (client: WsClient) => boolean,
  ) {}

  consume(client: WsClient, frame: WsConsume): void {
    client.checkSub(frame.sub)
    const sub = frame.sub
    const prefix = `{"op":"delivery","sub":${JSON.stringify(sub)},"event":`
    const consumer = frame.consumer ?? client.id
    void (async () => {
      this.authorize(client, frame.group, await this.groups.patterns(frame.group))
      // Deliveries start in a later turn, so `ok` always comes first.
      const handle = await this.groups.consume(
        frame.group,
        consumer,
        frame.max ?? 1,
        (d) => client.deliver(`${prefix}${d.event.json},"attempt":${d.attempt},"deadline":"${new Date(d.deadlineMs).toISOString()}"}`),
        () => client.consumeEnded(sub),
      )
      try {
        // The sub id may have been taken, or the socket closed, while the group was looked up.
        if (!this.isOpen(client)) throw new RingcastError('bad_request', 'The socket closed.')
        client.checkSub(sub)
      } catch (error) {
        handle.close()
        throw error
      }
      client.addConsumer(sub, { group: frame.group, consumer, close: () => handle.close() })
      client.reply({ op: 'ok', sub })
    })().catch((error) => client.error({ sub }, error))
  }

  /**
   * ack / nack / extend / term for the socket's consumers of that group; ids none of them holds come back in an error.
   * An extend that took ids is also answered, with their new lease deadline.
   */
  settle(client: WsClient, frame: WsSettle): void {
    const answers = { ...(frame.ref !== undefined && { ref: frame.ref }), group: frame.group }
    const fail = (error: unknown) => client.error(answers, error)
    const mine = client.consumersOf(frame.group)
    const apply = (consumer: string, ids: number[]): Promise<SettleResult & { deadlineMs?: number }> => {
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
      // Applied in this turn when the socket consumes the group; else only the answer differs (not_found or not_held).
      if (mine.length === 0 && !(await this.groups.patterns(frame.group))) throw new RingcastError('not_found', `No group "${frame.group}".`)
      let left = frame.ids
      const taken: number[] = []
      let deadlineMs = 0
      for (const c of mine) {
        if (left.length === 0) break
        const settled = await apply(c.consumer, left)
        taken.push(...settled.ok)
        deadlineMs = Math.max(deadlineMs, settled.deadlineMs ?? 0)
        left = settled.notHeld
      }
      // The same field as POST …/extend answers.
      if (frame.op === 'extend' && taken.length > 0) client.reply({ op: 'ok', ...answers, ids: taken, deadline: new Date(deadlineMs).toISOString() })
      if (left.length > 0) fail(new RingcastError('not_held', `${frame.op}: ${left.length} id(s) not held by this socket's consumers of "${frame.group}".`, undefined, { ids: left }))
    })().catch(fail)
  }
}
