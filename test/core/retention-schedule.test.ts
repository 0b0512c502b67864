import { expect, test } from 'bun:test'
import { RetentionSchedule } from '../../src/core/retention-schedule'
import { StreamRegistry } from '../../src/core/streams'

const registry = () => new StreamRegistry({ ringSize: 16, maxEvents: 100, maxAgeSeconds: 60, ephemeral: false }, [])

test('hands out streams when due, earliest first, each once, at most `limit` per call', () => {
  const streams = registry()
  const schedule = new RetentionSchedule((s) => streams.get(s.name) === s)
  const [a, b, c] = ['a', 'b', 'c'].map((n) => streams.getOrCreate(n))
  schedule.queue(b, 200)
  schedule.queue(a, 100)
  schedule.queue(c, 300)
  expect(schedule.takeDue(50, 10)).toEqual([])
  expect(schedule.takeDue(250, 1).map((s) => s.name)).toEqual(['a'])
  expect(schedule.takeDue(250, 10).map((s) => s.name)).toEqual(['b'])
  // Taken streams left the schedule: nothing comes back until queued again.
  expect(schedule.takeDue(1000, 10).map((s) => s.name)).toEqual(['c'])
  expect(schedule.takeDue(1000, 10)).toEqual([])
})

test('queueing earlier moves a stream up; later, or never, leaves it where it was', () => {
  const streams = registry()
  const schedule = new RetentionSchedule((s) => streams.get(s.name) === s)
  const a = streams.getOrCreate('a')
  schedule.queue(a, 500)
  schedule.queue(a, 900)
  schedule.queue(a, Number.POSITIVE_INFINITY)
  schedule.queue(a, 100)
  expect(schedule.takeDue(100, 10)).toEqual([a])
  // The entry at 500 is stale now: the stream is not handed out twice.
  expect(schedule.takeDue(1000, 10)).toEqual([])
})

test('a deleted stream is dropped, and one created again under its name is scheduled on its own', () => {
  const streams = registry()
  const schedule = new RetentionSchedule((s) => streams.get(s.name) === s)
  schedule.queue(streams.getOrCreate('a'), 100)
  streams.remove('a')
  const again = streams.getOrCreate('a')
  schedule.queue(again, 200)
  expect(schedule.takeDue(1000, 10)).toEqual([again])
})

test('hands out a thousand streams queued in random order sorted by due time', () => {
  const streams = registry()
  const schedule = new RetentionSchedule((s) => streams.get(s.name) === s)
  const due = Array.from({ length: 1000 }, (_, i) => ({ state: streams.getOrCreate(`s.${i}`), at: Math.floor(Math.random() * 10_000) }))
  for (const { state, at } of due) schedule.queue(state, at)
  const taken = [...schedule.takeDue(5000, 300), ...schedule.takeDue(20_000, 10_000)]
  expect(taken.map((s) => s.dueMs)).toEqual(taken.map(() => Number.POSITIVE_INFINITY))
  const expected = [...due].sort((a, b) => a.at - b.at)
  expect(taken.map((s) => due.find((d) => d.state === s)!.at)).toEqual(expected.map((d) => d.at))
})
