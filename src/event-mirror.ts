import type { Batch, Subscriber } from './core/feed'
import { dataText, eventLine } from './event-line'
import type { LogFormat } from './logger'

const MAX_DATA = 200

/** The `--log-events` mirror: every committed event as one line on stdout (`[events] …`, or a JSON object). */
export class EventMirror implements Subscriber {
  // Not a client connection: it must not keep rings alive or show in subscriber counts.
  readonly connections = 0

  constructor(private readonly format: LogFormat) {}

  deliver(batch: Batch): void {
    let out = ''
    for (const event of batch.events) {
      const e = event.envelope()
      if (this.format === 'json') {
        out += `${JSON.stringify({ time: e.time, msg: 'event', stream: e.stream, id: e.id, type: e.type, data: dataText(e.data, MAX_DATA) })}\n`
      } else out += `[events] ${eventLine(e, { maxData: MAX_DATA })}\n`
    }
    process.stdout.write(out)
  }

  // Its selector is a pattern, which never ends.
  end(): void {}
}
