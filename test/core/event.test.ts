import { describe, expect, test } from 'bun:test'
import { type Envelope, type Event, sseChunk, sseControl, sseFrame } from '../../src/core/event'
import { eventFromRow } from '../../src/core/streams'
import { parseFrame } from '../helpers/sse-client'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const TIME = '2026-11-22T04:00:00.000Z'
const envelope = (over: Partial<Envelope> = {}): Envelope => ({ id: 7, stream: 'jobs.42', type: 'message', data: { n: 1 }, time: TIME, ...over })
/** The event the hub builds for this envelope once it is committed. */
const eventOf = (env: Envelope): Event =>
  eventFromRow({ id: env.id, stream: env.stream, type: env.type, data: JSON.stringify(env.data), timeMs: Date.parse(env.time), key: env.key ?? null, correlationId: env.correlationId ?? null })

describe('SSE framing', () => {
  const rows: [string, Partial<Envelope>, string[]][] = [
    ['message type omits the event line', { type: 'message' }, ['id: 7', 'data: ']],
    ['other types get an event line', { type: 'stage_completed' }, ['id: 7', 'event: stage_completed', 'data: ']],
    ['a large id', { id: 9_007_199_254_740_991 }, ['id: 9007199254740991', 'data: ']],
  ]
  test.each(rows)('%s', (_, over, starts) => {
    const event = eventOf(envelope(over))
    const frame = text(event.sse)
    expect(frame.endsWith('\n\n')).toBe(true)
    const lines = frame.slice(0, -2).split('\n')
    expect(lines.length).toBe(starts.length)
    lines.forEach((line, i) => expect(line.startsWith(starts[i])).toBe(true))
    expect(JSON.parse(lines[lines.length - 1].slice('data: '.length))).toEqual(envelope(over))
  })

  const awkward: [string, unknown][] = [
    ['newline in a string', 'line 1\nline 2'],
    ['carriage return and newline', 'a\r\nb\rc'],
    ['a blank-line sequence that would end a frame', 'x\n\nid: 99\n\ndata: evil'],
    ['nested object with newlines', { log: ['a\n', '\nb'], deep: { s: '\n' } }],
    ['unicode line separators', 'a\u2028b\u2029c'],
    ['null', null],
  ]
  test.each(awkward)('data with %s stays on one data line and round-trips', (_, data) => {
    const event = eventOf(envelope({ data, type: 'log' }))
    const frame = text(event.sse)
    const body = frame.slice(0, -2)
    expect(body.includes('\n\n')).toBe(false)
    expect(body.includes('\r')).toBe(false)
    expect(body.split('\n').filter((l) => l.startsWith('data:')).length).toBe(1)
    const parsed = parseFrame(body)
    expect(parsed.id).toBe('7')
    expect(parsed.event).toBe('log')
    expect(JSON.parse(parsed.data!).data).toEqual(data)
  })

  test('sseFrame builds the same text the Event holds', () => {
    const event = eventOf(envelope({ type: 'x' }))
    expect(sseFrame(event.id, event.type, event.json)).toBe(text(event.sse))
  })

  test('control frames carry no id, so they never move Last-Event-ID', () => {
    const frame = text(sseControl('gap', { after: 3, firstId: 9 }))
    expect(frame).toBe('event: gap\ndata: {"after":3,"firstId":9}\n\n')
    expect(parseFrame(frame.slice(0, -2)).id).toBeUndefined()
  })
})

describe('WebSocket frame', () => {
  test('is {"op":"event","event":<envelope>} embedding the same JSON text', () => {
    const env = envelope({ type: 't', key: 'k1', correlationId: 'c1' })
    const event = eventOf(env)
    expect(JSON.parse(event.ws)).toEqual({ op: 'event', event: env })
    expect(event.ws).toBe(`{"op":"event","event":${event.json}}`)
  })

  test('envelope() parses back what was encoded', () => {
    const env = envelope({ data: ['a', 1, null, { b: true }] })
    expect(eventOf(env).envelope()).toEqual(env)
  })
})

describe('Event from a log row', () => {
  test('has the envelope as JSON in its field order, with the time of its own row', () => {
    const env = envelope({ type: 'stage', key: 'k', correlationId: 'c' })
    const fromRow = eventOf(env)
    expect(fromRow.json).toBe(JSON.stringify(env))
    expect(fromRow.timeMs).toBe(Date.parse(TIME))
    // Times alternate between rows: each event keeps its own.
    const later = '2026-11-22T04:00:01.500Z'
    expect([eventOf(envelope({ time: later })), eventOf(env), eventOf(envelope({ time: later }))].map((e) => e.envelope().time)).toEqual([later, TIME, later])
  })

  test('leaves out key and correlationId when the row has none', () => {
    const e = eventFromRow({ id: 1, stream: 's', type: 'message', data: '"x"', timeMs: 0, key: null, correlationId: null })
    expect(Object.keys(e.envelope())).toEqual(['id', 'stream', 'type', 'data', 'time'])
  })
})

describe('sseChunk', () => {
  test('one event: the very same bytes, no copy', () => {
    const e = eventOf(envelope())
    expect(sseChunk([e])).toBe(e.sse)
  })

  test('several events: their frames concatenated in order', () => {
    const events = [1, 2, 3].map((id) => eventOf(envelope({ id, type: id === 2 ? 'other' : 'message' })))
    const chunk = text(sseChunk(events))
    expect(chunk).toBe(events.map((e) => text(e.sse)).join(''))
    const frames = chunk.split('\n\n').filter(Boolean).map(parseFrame)
    expect(frames.map((f) => f.id)).toEqual(['1', '2', '3'])
    expect(frames.map((f) => f.event)).toEqual(['message', 'other', 'message'])
  })

  test('multi-byte characters keep their byte length', () => {
    const events = [eventOf(envelope({ id: 1, data: 'é✓😀' })), eventOf(envelope({ id: 2, data: '∑' }))]
    const chunk = sseChunk(events)
    expect(chunk.byteLength).toBe(events[0].sse.byteLength + events[1].sse.byteLength)
    expect(JSON.parse(parseFrame(text(chunk).split('\n\n')[0]).data!).data).toBe('é✓😀')
  })
})
