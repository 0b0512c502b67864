import { Elysia, t } from 'elysia'
import type { Claimed, GroupView } from '../../groups/consumer-groups'
import { refusals } from '../../groups/live'
import type { Grants } from '../../auth/grants'
import { type AppDeps, authenticate, authenticateBeforeParse, keepOpen, type ServerLike } from '../deps'
import { AckBody, ClaimBody, ClaimResult, GroupBody, GroupInfo, GroupParams, NackBody, ReplayBody, ReplayResult, Settled, TermBody } from '../group-schemas'
import { Problem } from '../schemas'

const json = { 'Content-Type': 'application/json' }
const iso = (ms: number) => new Date(ms).toISOString()

/** A group's view as the API shows it. */
export function groupInfo(s: GroupView) {
  const c = s.config
  return {
    group: s.name,
    streams: c.streams,
    types: c.types,
    start: c.start,
    ackTimeout: c.ackTimeoutSec,
    maxDeliveries: c.maxDeliveries,
    ordering: c.ordering,
    dlq: `dlq.${s.name}`,
    createdAt: iso(c.createdMs),
    cursor: s.cursor,
    lag: s.lag,
    pending: s.pending,
    inFlight: s.inFlight,
    consumers: s.consumers.map((x) => ({ consumer: x.consumer, inFlight: x.inFlight, lastSeen: x.lastSeenMs === null ? null : iso(x.lastSeenMs) })),
    acks: s.counters.acks,
    acksPerSecond: s.acksPerSecond,
    redeliveries: s.counters.redeliveries,
    deadLetters: s.counters.deadLetters,
    gaps: s.counters.gaps,
    lastGap: s.counters.lastGap && { after: s.counters.lastGap.after, firstId: s.counters.lastGap.firstId, time: iso(s.counters.lastGap.timeMs) },
  }
}

/** The claim answer, splicing in each event's encoded envelope. */
function claimJson(deliveries: readonly Claimed[]): string {
  return `{"deliveries":[${deliveries.map((x) => `{"event":${x.event.json},"attempt":${x.attempt},"deadline":"${iso(x.deadlineMs)}"}`).join(',')}]}`
}

const problems = { 400: Problem, 401: Problem, 403: Problem, 404: Problem }

export function groupRoutes(d: AppDeps) {
  const admin = (grants: Grants) => d.auth.requireAdmin(grants)
  const groups = d.groups
  /** Workers need a token (not a ticket) whose subscribe grants cover every pattern the group reads. */
  const worker = async (name: string, grants: Grants) => d.auth.requireWork(grants, name, await groups.patterns(name))
  return new Elysia({ detail: { tags: ['groups'] } })
    .onParse(authenticateBeforeParse(d))
    .derive(authenticate(d))
    .get(
      '/v1/groups',
      async ({ caller: { grants } }) => {
        admin(grants)
        return { groups: (await groups.list()).map(groupInfo) }
      },
      { response: { 200: t.Object({ groups: t.Array(GroupInfo) }), ...problems }, detail: { summary: 'List consumer groups with their stats' } },
    )
    .get(
      '/v1/groups/:group',
      async ({ params, caller: { grants } }) => {
        admin(grants)
        return groupInfo(await groups.view(params.group))
      },
      {
        params: GroupParams,
        response: { 200: GroupInfo, ...problems },
        detail: { summary: 'One group: lag, pending, consumers (in flight, last seen), redeliveries, dead letters, gaps' },
      },
    )
    .put(
      '/v1/groups/:group',
      async ({ params, body, set, caller: { grants } }) => {
        admin(grants)
        const { view, isNew } = await groups.put(params.group, {
          streams: body.streams,
          types: body.types,
          start: body.start,
          ackTimeoutSec: body.ackTimeout,
          maxDeliveries: body.maxDeliveries,
          ordering: body.ordering,
        })
        set.status = isNew ? 201 : 200
        return groupInfo(view)
      },
      {
        params: GroupParams,
        body: GroupBody,
        response: { 200: GroupInfo, 201: GroupInfo, ...problems },
        detail: {
          summary: 'Create (201) or update (200) a consumer group',
          description:
            'A group hands each matching event to one of its consumers at a time. `streams` is required on create. `start` applies only when the group is created (default latest). ' +
            'Updating keeps the cursor and every lease; new settings apply to later deliveries. Dead letters go to the stream `dlq.{group}`, which the group itself never reads.',
        },
      },
    )
    .delete(
      '/v1/groups/:group',
      async ({ params, set, caller: { grants } }) => {
        admin(grants)
        if (!(await groups.delete(params.group))) throw refusals.noSuchGroup(params.group)
        set.status = 204
      },
      { params: GroupParams, detail: { summary: 'Delete a group, its cursor and its leases', description: 'Its WebSocket consumers get `end`. The stream dlq.{group} stays.' } },
    )
    .post(
      '/v1/groups/:group/claim',
      async ({ params, body, request, server, caller: { grants } }) => {
        const name = params.group
        await worker(name, grants)
        if (body.wait) keepOpen(server as ServerLike | null, request)
        const deliveries = await groups.claim(name, body.consumer, body.max ?? 1, (body.wait ?? 0) * 1000, request.signal)
        return new Response(claimJson(deliveries), { headers: json })
      },
      {
        params: GroupParams,
        body: ClaimBody,
        detail: {
          summary: 'Claim deliveries (pull)',
          description:
            'Up to `max` events, each now held by `consumer` alone until its `deadline` (ackTimeout from now): released ones first, then new ones. ' +
            'With `wait`, an empty answer waits up to that many seconds and returns the moment something is ready (on any node). The lease is stored (SQLite, or Redis with --redis) before the answer.',
          responses: {
            200: { description: 'Deliveries (possibly none).', content: { 'application/json': { schema: ClaimResult as never } } },
            404: { description: 'Unknown group.', content: { 'application/problem+json': { schema: Problem as never } } },
          } as never,
        },
      },
    )
    .post(
      '/v1/groups/:group/ack',
      async ({ params, body, caller: { grants } }) => {
        const name = params.group
        await worker(name, grants)
        return groups.ack(name, body.consumer ?? null, body.ids)
      },
      { params: GroupParams, body: AckBody, response: { 200: Settled, ...problems }, detail: { summary: 'Acknowledge: done with these events', description: 'Stored before the answer: an acked event never comes back. Ids not held are listed in `notHeld`, not taken.' } },
    )
    .post(
      '/v1/groups/:group/nack',
      async ({ params, body, caller: { grants } }) => {
        const name = params.group
        await worker(name, grants)
        return groups.nack(name, body.consumer ?? null, body.ids, body.delay ?? 0)
      },
      { params: GroupParams, body: NackBody, response: { 200: Settled, ...problems }, detail: { summary: 'Give back: redeliver after `delay` seconds', description: 'The attempt counts; an event at its last attempt goes to dlq.{group} instead.' } },
    )
    .post(
      '/v1/groups/:group/extend',
      async ({ params, body, caller: { grants } }) => {
        const name = params.group
        await worker(name, grants)
        const { deadlineMs, ...settled } = await groups.extend(name, body.consumer ?? null, body.ids)
        return { ...settled, ...(settled.ok.length > 0 && { deadline: iso(deadlineMs) }) }
      },
      { params: GroupParams, body: AckBody, response: { 200: Settled, ...problems }, detail: { summary: 'Still working: push the deadline to ackTimeout from now' } },
    )
    .post(
      '/v1/groups/:group/term',
      async ({ params, body, caller: { grants } }) => {
        const name = params.group
        await worker(name, grants)
        return groups.term(name, body.consumer ?? null, body.ids, body.reason)
      },
      { params: GroupParams, body: TermBody, response: { 200: Settled, ...problems }, detail: { summary: 'Give up: straight to dead letters', description: 'Answered once the dead letters are committed to dlq.{group}.' } },
    )
    .post(
      '/v1/groups/:group/dlq/replay',
      ({ params, body, caller: { grants } }) => {
        admin(grants)
        return groups.replay(params.group, body?.ids)
      },
      {
        params: GroupParams,
        body: ReplayBody,
        response: { 200: ReplayResult, ...problems },
        detail: {
          summary: 'Replay dead letters',
          description:
            'Republishes each dead letter (those `ids` of dlq.{group}, or every retained one) to its original stream with the original type, data and correlationId, under a new id and the key `replay-{dead letter id}`: ' +
            'the group then delivers it again from attempt 1, and replaying the same dead letter again within the dedup window stores nothing (`duplicate: true`). The DLQ stream itself is left as it is.',
        },
      },
    )
}
