import { describe, expect, test } from 'bun:test'
import { examplesOf, lineDifference, masked } from './examples'

describe('examplesOf', () => {
  const markdown = [
    'text',
    '```sh',
    '# prose before a command',
    'curl -s a \\',
    "  -d '{}'",
    '# {"id":1}',
    '#',
    '# [2]',
    '',
    '# prose after a blank line',
    'echo done',
    '```',
    '```bash',
    'npm test',
    '```',
  ].join('\n')

  test('takes the commands of sh blocks only, joining continued lines, with the # lines right under them as output', () => {
    expect(examplesOf(markdown)).toEqual([
      { line: 4, command: "curl -s a \\\n  -d '{}'", expected: ['{"id":1}', '', '[2]'] },
      { line: 11, command: 'echo done', expected: null },
    ])
  })
})

describe('comparing shown and real output', () => {
  test('masks ids, times and tickets, nothing else', () => {
    expect(masked({ id: 7, time: '2026-11-22T04:00:00.000Z', ticket: 'rct1.x', data: { id: 3, n: 1 }, ok: [7] })).toEqual({ id: '<id>', time: '<time>', ticket: '<ticket>', data: { id: '<id>', n: 1 }, ok: [7] })
  })

  const rows: [string, string, string | undefined, boolean][] = [
    ['JSON equal but for id and time', '{"id":1,"time":"2026-11-22T04:00:00.000Z","data":1}', '{"id":9,"time":"2027-01-01T00:00:00.000Z","data":1}', true],
    ['JSON with other data', '{"id":1,"data":1}', '{"id":1,"data":2}', false],
    ['JSON with a field more', '{"id":1}', '{"id":1,"duplicate":true}', false],
    ['an SSE data line', 'data: {"id":1}', 'data: {"id":2}', true],
    ['an SSE data line against a bare one', 'data: {"id":1}', '{"id":1}', false],
    ['literal text', 'id: 6', 'id: 6', true],
    ['other literal text', 'id: 6', 'id: 7', false],
    ['a missing line', 'id: 6', undefined, false],
    ['shown JSON that does not parse', '{"id":1,…}', '{"id":1}', false],
    ['a random idempotency key shown as …', '{"key":"…"}', '{"key":"183556fdbb4ccc4089bd3f480380d09e"}', true],
    ['a batch item of a random key', '{"key":"…"}', '{"key":"183556fdbb4ccc4089bd3f480380d09e:1"}', true],
    ['a key someone chose, shown as …', '{"key":"…"}', '{"key":"step-7"}', false],
    ['a key someone chose, shown as it is', '{"key":"step-7"}', '{"key":"step-8"}', false],
  ]
  for (const [name, shown, real, isSame] of rows) {
    test(name, () => {
      expect(lineDifference(shown, real) === null).toBe(isSame)
    })
  }
})
