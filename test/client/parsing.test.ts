import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { matches } from '../../src/client/filter'
import { type SseFrame, SseParser } from '../../src/client/sse'
import { matches as serverMatches } from '../../src/core/pattern'

/** The client's pure parts: SSE framing (however the bytes are cut) and pattern matching (as the server does it). */

function parse(chunks: string[]): SseFrame[] {
  const frames: SseFrame[] = []
  const parser = new SseParser((f) => frames.push(f))
  for (const chunk of chunks) parser.push(chunk)
  return frames
}

const envelope = '{"id":7,"stream":"a.b","type":"t","data":"x: y","time":"2026-01-01T00:00:00.000Z"}'

test.each([
  ['an event with id and type', `id: 7\nevent: t\ndata: ${envelope}\n\n`, [{ id: '7', event: 't', data: envelope }]],
  ['type message when no event line', 'id: 8\ndata: {}\n\n', [{ id: '8', event: 'message', data: '{}' }]],
  ['a control frame has no id', 'event: gap\ndata: {"after":1,"firstId":5}\n\n', [{ id: undefined, event: 'gap', data: '{"after":1,"firstId":5}' }]],
  ['retry, comments and heartbeats are skipped', 'retry: 1000\n: ringcast\n\n: hb\n\nid: 9\ndata: 1\n\n', [{ id: '9', event: 'message', data: '1' }]],
  ['CRLF and CR line ends', 'id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\r', [{ id: '1', event: 'message', data: 'a' }, { id: '2', event: 'message', data: 'b' }]],
  ['data lines are joined, the space after the colon is optional', 'data:a\ndata: b\n\n', [{ id: undefined, event: 'message', data: 'a\nb' }]],
  ['a frame without its blank line is not dispatched', 'id: 3\ndata: x\n', []],
])('%s', (_, text, expected) => {
  expect(parse([text])).toEqual(expected)
  // Cut anywhere (a CRLF split in two included), the frames are the same.
  for (let at = 1; at < text.length; at++) expect(parse([text.slice(0, at), text.slice(at)])).toEqual(expected)
})

test('the client matches patterns exactly as the server does', () => {
  const token = fc.constantFrom('a', 'b', 'job-1')
  const name = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'))
  const pattern = fc
    .tuple(fc.array(fc.oneof(token, fc.constant('*')), { minLength: 0, maxLength: 3 }), fc.constantFrom('', '*', '**', 'a'))
    .map(([head, last]) => [...head, last].filter((t) => t !== '').join('.'))
    .filter((p) => p !== '')
  fc.assert(fc.property(pattern, name, (p, n) => matches(p, n) === serverMatches(p, n)), { numRuns: 2000 })
})
