// The streams panel: GET /v1/streams a page at a time (pattern, limit, after=NAME), refreshed every two seconds.
import { api } from './api.js'
import { count, every, h, rate, role, showError } from './dom.js'

/** Streams per page: the server answers a page, never every stream at once. */
export const PAGE = 100

/** Lists the streams the token may see; `onOpen(name)` when one is clicked. */
export function streamsPanel(root, onOpen) {
  const rows = role(root, 'rows')
  const filter = role(root, 'filter')
  const prev = role(root, 'prev')
  const next = role(root, 'next')
  // Cursors of the pages before this one, so Prev can go back; `after` starts the current page.
  const earlier = []
  let after = null
  let following = null
  let selected = null
  // Only the newest answer is drawn: a slow poll must not overwrite the page a click asked for.
  let generation = 0

  const load = async () => {
    const mine = ++generation
    const q = new URLSearchParams({ limit: String(PAGE) })
    if (filter.value.trim()) q.set('pattern', filter.value.trim())
    if (after !== null) q.set('after', after)
    try {
      const page = await api(`/v1/streams?${q}`)
      if (mine !== generation) return
      showError(role(root, 'error'), null)
      render(page)
    } catch (error) {
      if (mine !== generation) return
      showError(role(root, 'error'), error.message)
      rows.replaceChildren()
    }
  }

  const render = (page) => {
    following = page.next
    const first = earlier.length * PAGE
    role(root, 'total').textContent = count(page.total)
    role(root, 'range').textContent = page.total === 0 ? '' : `${count(first + 1)}–${count(first + page.streams.length)} of ${count(page.total)}`
    role(root, 'empty').hidden = page.total > 0
    prev.disabled = earlier.length === 0
    next.disabled = page.next === null
    rows.replaceChildren(
      ...page.streams.map((s) =>
        h(
          'tr',
          { class: s.stream === selected ? 'selected' : null, 'data-stream': s.stream, tabindex: 0 },
          h('td', { class: 'name' }, s.stream),
          h('td', { class: 'num' }, count(s.events)),
          h('td', { class: `num${s.eventsPerSecond > 0 ? ' hot' : ''}` }, rate(s.eventsPerSecond)),
          h('td', { class: 'num' }, count(s.subscribers)),
          h('td', { class: 'num' }, s.lastId === null ? '–' : count(s.lastId)),
          h('td', { class: 'flags' }, s.closed && h('span', { class: 'badge' }, 'closed'), s.ephemeral && h('span', { class: 'badge' }, 'ephemeral')),
        ),
      ),
    )
  }

  const open = (event) => {
    const tr = event.target.closest('tr[data-stream]')
    if (!tr || (event.type === 'keydown' && event.key !== 'Enter')) return
    selected = tr.dataset.stream
    for (const row of rows.children) row.classList.toggle('selected', row === tr)
    onOpen(selected)
  }
  rows.addEventListener('click', open)
  rows.addEventListener('keydown', open)

  prev.addEventListener('click', () => {
    after = earlier.pop() ?? null
    load()
  })
  next.addEventListener('click', () => {
    if (following === null) return
    earlier.push(after)
    after = following
    load()
  })
  let typing
  filter.addEventListener('input', () => {
    clearTimeout(typing)
    typing = setTimeout(() => {
      earlier.length = 0
      after = null
      load()
    }, 250)
  })

  every(2000, load)
  return {
    /** Clears the selection (the detail was closed). */
    deselect() {
      selected = null
      for (const row of rows.children) row.classList.remove('selected')
    },
  }
}
