// The live view: one WebSocket (opened with a ticket, never the token) subscribed to the patterns in its box.
// A WebSocket, not EventSource: EventSource hands out only the event types it was told to listen for.
import { ApiError, patternsOf, ticketFor } from './api.js'
import { eventItem, h, rate, role, showError } from './dom.js'

/** Events kept on screen (and held while paused); older ones leave. */
const MAX_ROWS = 300
/** The server closed a socket that fell past its buffer limit. */
const CLOSE_SLOW = 4008

/** Follows `patterns` live; returns `watch(patterns)` to follow others. */
export function livePanel(root, patterns) {
  const list = role(root, 'events')
  const input = role(root, 'pattern')
  const pause = role(root, 'pause')
  const error = role(root, 'error')
  let socket = null
  // Resume position after a dropped connection; null starts live.
  let lastId = null
  let isPaused = false
  let held = []
  let queue = []
  let drawing = 0
  // Sockets opened for earlier patterns are ignored once superseded.
  let generation = 0
  let arrivals = 0

  const state = (text, kind) => {
    const el = role(root, 'state')
    el.textContent = text
    el.dataset.kind = kind
  }

  const connect = async (resume) => {
    const mine = ++generation
    socket?.close(1000)
    state('connecting', 'wait')
    let ticket
    try {
      ticket = await ticketFor(patterns)
    } catch (e) {
      if (mine !== generation) return
      // Refused (the token may not follow these patterns): say so and wait for other patterns. Unreachable: try again.
      if (e instanceof ApiError && e.status < 500) {
        showError(error, e.message)
        return state('refused', 'bad')
      }
      state('reconnecting', 'wait')
      return setTimeout(() => mine === generation && connect(resume), 2000)
    }
    if (mine !== generation) return
    const url = new URL('/v1/ws', location.href)
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
    if (ticket) url.searchParams.set('access_token', ticket)
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => ws.send(JSON.stringify({ op: 'subscribe', sub: 'live', streams: patterns, ...(resume && lastId !== null && { after: lastId }) }))
    ws.onmessage = (m) => {
      if (mine !== generation) return
      const msg = JSON.parse(m.data)
      if (msg.op === 'event') receive(msg.event)
      else if (msg.op === 'ok' && msg.sub === 'live') {
        showError(error, null)
        state('live', 'ok')
      } else if (msg.op === 'error') {
        showError(error, msg.error.message)
        state('refused', 'bad')
      } else if (msg.op === 'gap') notice(`Retention removed events ${msg.after + 1}–${msg.firstId - 1} before this view saw them.`)
      else if (msg.op === 'reset') notice('The server restarted with fewer ids than this view had seen; following live events.')
    }
    ws.onclose = (e) => {
      if (mine !== generation) return
      state('reconnecting', 'wait')
      if (e.code === CLOSE_SLOW) notice('This view fell behind the server and skipped ahead to live events.')
      setTimeout(() => mine === generation && connect(e.code !== CLOSE_SLOW), 1000)
    }
  }

  const receive = (event) => {
    lastId = event.id
    arrivals++
    if (isPaused) {
      held.push(event)
      if (held.length > MAX_ROWS) held.shift()
      pause.textContent = `Resume (${held.length}${held.length === MAX_ROWS ? '+' : ''})`
      return
    }
    queue.push(event)
    // A hidden tab draws no frames: keep only what could be shown.
    if (queue.length > MAX_ROWS) queue.shift()
    drawing ||= requestAnimationFrame(draw)
  }

  // Drawn once per frame: a burst of events costs one layout, and only what can stay on screen is built.
  const draw = () => {
    drawing = 0
    const items = queue.map(eventItem)
    queue = []
    for (const item of items) item.classList.add('new')
    list.prepend(...items.reverse())
    show()
  }

  const notice = (text) => {
    list.prepend(h('li', { class: 'notice' }, text))
    show()
  }

  const show = () => {
    while (list.childElementCount > MAX_ROWS) list.lastElementChild.remove()
    role(root, 'empty').hidden = list.childElementCount > 0
  }

  const watch = (next) => {
    patterns = next.length > 0 ? next : ['**']
    input.value = patterns.join(', ')
    lastId = null
    held = []
    queue = []
    list.replaceChildren()
    show()
    connect(false)
  }

  input.value = patterns.join(', ')
  input.addEventListener('change', () => watch(patternsOf(input.value)))
  pause.addEventListener('click', () => {
    isPaused = !isPaused
    pause.textContent = isPaused ? 'Resume' : 'Pause'
    pause.classList.toggle('active', isPaused)
    if (!isPaused) {
      queue = [...queue, ...held].slice(-MAX_ROWS)
      held = []
      drawing ||= requestAnimationFrame(draw)
    }
  })
  role(root, 'clear').addEventListener('click', () => {
    list.replaceChildren()
    show()
  })
  setInterval(() => {
    role(root, 'rate').textContent = arrivals > 0 || lastId !== null ? `${rate(arrivals)}/s` : ''
    arrivals = 0
  }, 1000)

  connect(false)
  return { watch }
}
