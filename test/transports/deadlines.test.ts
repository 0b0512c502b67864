import { expect, test } from 'bun:test'
import { Deadlines } from '../../src/transports/deadlines'

test('each wait fires once, none before its time; one taken out early never fires', async () => {
  const fired: { name: string; afterMs: number }[] = []
  const started = Date.now()
  const all = Promise.withResolvers<void>()
  const deadlines = new Deadlines<string>(50, (name) => {
    fired.push({ name, afterMs: Date.now() - started })
    if (fired.length === 2) all.resolve()
  })
  deadlines.add('a', 30).delete('a')
  deadlines.add('b', 30)
  deadlines.add('c', 120)
  await all.promise
  expect(fired.map((f) => f.name)).toEqual(['b', 'c'])
  expect(fired[0].afterMs).toBeGreaterThanOrEqual(30)
  expect(fired[1].afterMs).toBeGreaterThanOrEqual(120)
})
