import type { Envelope } from './core/event'

const PAINT = { dim: '\x1b[2m', cyan: '\x1b[36m', yellow: '\x1b[33m', green: '\x1b[1;32m', off: '\x1b[0m' }

/** An event's data as one line of text (a string as it is, else JSON), cut to `max` characters. */
export function dataText(data: unknown, max?: number): string {
  // One line whatever it holds: a newline in a text event must not forge a log line.
  const text = (typeof data === 'string' ? data : JSON.stringify(data)).replace(/[\r\n]+/g, ' ')
  return max !== undefined && text.length > max ? `${text.slice(0, max)}…` : text
}

/** `<time> <stream> #<id> <type> <data>`: the server's `[events]` mirror and `ringcast tail` on a terminal. */
export function eventLine(e: Envelope, options: { maxData?: number; isColored?: boolean; isTimeOnly?: boolean } = {}): string {
  const time = options.isTimeOnly ? e.time.slice(11, 23) : e.time
  const paint = (color: keyof typeof PAINT, text: string) => (options.isColored ? `${PAINT[color]}${text}${PAINT.off}` : text)
  return `${paint('dim', time)} ${paint('cyan', e.stream)} ${paint('yellow', `#${e.id}`)} ${paint('green', e.type)} ${dataText(e.data, options.maxData)}`
}
