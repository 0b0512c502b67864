import { afterEach, expect, test } from 'bun:test'
import { Groups } from '../../src/groups/groups'
import { SqliteGroupLog } from '../../src/store/sqlite-group-log'
import { HubFixture } from '../helpers/hub-fixture'

// Replay checks each letter, whatever wrote it: clients cannot write dlq.* (the HTTP tests show that),
// and a letter that got there anyway must not be replayed into a stream the group never read.

let fx: HubFixture
afterEach(async () => {
  await fx?.close()
})

test('a letter without the group\'s own key, or naming a stream the group does not read, is not replayed', async () => {
  fx = await HubFixture.create()
  const groups = new Groups(fx.hub, new SqliteGroupLog(fx.log.db))
  const { view: group } = await groups.put('acme', { streams: ['billing.*'], start: 'latest' })
  const letter = (key: string, id: number, stream: string) => ({ type: 'dead_letter', key, data: { event: { id, stream, type: 'x', data: 1 }, attempts: 1, reason: 'r' } })
  const [forged, outside, genuine] = await fx.hub.publish('dlq.acme', [
    letter('guessed-key', 6, 'billing.1'),
    letter(`${group.config.createdMs}-8`, 8, 'admin.commands'),
    letter(`${group.config.createdMs}-7`, 7, 'billing.1'),
  ])
  const result = await groups.replay('acme')
  expect(result.failed.map((f) => [f.deadLetter, f.code])).toEqual([
    [forged.duplicate ? 0 : forged.event.id, 'forbidden'],
    [outside.duplicate ? 0 : outside.event.id, 'forbidden'],
  ])
  expect(result.replayed).toEqual([{ deadLetter: genuine.duplicate ? 0 : genuine.event.id, stream: 'billing.1', id: expect.any(Number), duplicate: false }])
  await groups.stop()
})
