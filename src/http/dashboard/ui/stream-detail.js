// A stream's drawer: its settings and figures, and its most recent events (the polling tail), refreshed while open.
import { api } from './api.js'
import { count, eventItem, every, h, rate, role, showError } from './dom.js'

/** Recent events shown for a stream. */
const TAIL = 50

/** The drawer; `open(name)` shows a stream, `onWatch(name)` follows it live, `onClose()` when closed. */
export function streamDetail(root, { onWatch, onClose }) {
  let name = null
  let stop = () => {}
  let shownLastId

  const load = async () => {
    const stream = name
    const path = `/v1/streams/${encodeURIComponent(stream)}`
    try {
      const info = await api(path)
      if (stream !== name) return
      showError(role(root, 'error'), null)
      facts(info)
      if (info.lastId === shownLastId) return
      const page = await api(`${path}/events?limit=${TAIL}`)
      if (stream !== name) return
      shownLastId = info.lastId
      role(root, 'events').replaceChildren(...page.events.reverse().map(eventItem))
    } catch (error) {
      if (stream === name) showError(role(root, 'error'), error.message)
    }
  }

  const facts = (s) => {
    const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value)]
    role(root, 'facts').replaceChildren(
      ...fact('events', count(s.events)),
      ...fact('ids', s.firstId === null ? '–' : `${count(s.firstId)} … ${count(s.lastId)}`),
      ...fact('events/s', rate(s.eventsPerSecond)),
      ...fact('subscribers', count(s.subscribers)),
      ...fact('ring', count(s.ringSize)),
      ...fact('retention', `${count(s.maxEvents)} events · ${count(s.maxAgeSeconds)} s`),
      ...fact('state', [s.closed ? 'closed' : 'open', s.ephemeral ? ' · ephemeral' : ' · persistent']),
    )
  }

  const close = () => {
    stop()
    name = null
    root.hidden = true
    onClose()
  }

  role(root, 'close').addEventListener('click', close)
  role(root, 'watch').addEventListener('click', () => onWatch(name))
  document.addEventListener('keydown', (e) => e.key === 'Escape' && !root.hidden && close())

  return {
    open(stream) {
      stop()
      name = stream
      shownLastId = undefined
      role(root, 'name').textContent = stream
      role(root, 'facts').replaceChildren()
      role(root, 'events').replaceChildren()
      root.hidden = false
      stop = every(2000, load)
    },
  }
}
