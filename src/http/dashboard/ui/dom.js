// DOM building and number formatting shared by the panels. Text is always set as text, never parsed as HTML.

/** An element: h('td', { class: 'num', onclick }, 'text', child). Falsy attributes and children are left out. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value)
    else if (key === 'class') el.className = value
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child)
  return el
}

/** The element of `root` marked data-role="name". */
export const role = (root, name) => root.querySelector(`[data-role="${name}"]`)

/** Shows `message` in an error line, or hides it for null. */
export function showError(el, message) {
  el.hidden = message === null
  el.textContent = message ?? ''
}

/** Calls `fn` now and every `ms` after it settles (never two at once), skipping while the tab is hidden; returns a stop function. */
export function every(ms, fn) {
  let timer
  let stopped = false
  const run = async () => {
    if (!document.hidden) await fn().catch(() => {})
    if (!stopped) timer = setTimeout(run, ms)
  }
  run()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })
const whole = new Intl.NumberFormat('en')

/** 1234 → "1,234"; from 100 000 on, "123.4K". */
export function count(n) {
  if (n === null || n === undefined) return '–'
  return Math.abs(n) >= 100_000 ? compact.format(n) : whole.format(n)
}

/** A rate: one decimal below 10, compact above. */
export function rate(n) {
  if (n === null || n === undefined) return '–'
  if (n === 0) return '0'
  return Math.abs(n) < 10 ? n.toFixed(1).replace(/\.0$/, '') : compact.format(n)
}

export function bytes(n) {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`
}

export function duration(seconds) {
  const d = Math.floor(seconds / 86400)
  const hrs = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = Math.floor(seconds % 60)
  if (d > 0) return `${d}d ${hrs}h`
  if (hrs > 0) return `${hrs}h ${m}m`
  if (m > 0) return `${m}m ${s}s`
  return `${s}s`
}

/** "14:03:07.125" in local time. */
export function clock(time) {
  const d = new Date(time)
  const pad = (n, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** "12s ago", "3m ago" for an ISO time. */
export function ago(time) {
  if (!time) return '–'
  return `${duration(Math.max(0, (Date.now() - Date.parse(time)) / 1000))} ago`
}

/** Past this much JSON text an event's data is shown as plain truncated text: a page must stay responsive. */
const MAX_PRETTY = 20_000

/** Pretty-printed, highlighted JSON in a <pre>. */
export function jsonView(value) {
  const pre = h('pre', { class: 'json' })
  const text = JSON.stringify(value)
  if (text !== undefined && text.length > MAX_PRETTY) {
    pre.append(`${text.slice(0, MAX_PRETTY)}… (${bytes(text.length)})`)
    return pre
  }
  write(pre, value, '')
  return pre
}

const token = (kind, text) => h('span', { class: `j-${kind}` }, text)

/** Objects and arrays whose compact text is at most this long stay on one line, spaced: dense, still readable. */
const INLINE = 72

function write(out, value, indent) {
  if (value === null) return out.append(token('lit', 'null'))
  if (typeof value === 'string') return out.append(token('str', JSON.stringify(value)))
  if (typeof value === 'number') return out.append(token('num', String(value)))
  if (typeof value === 'boolean') return out.append(token('lit', String(value)))
  const isArray = Array.isArray(value)
  const entries = isArray ? value.map((v) => [null, v]) : Object.entries(value)
  if (entries.length === 0) return out.append(isArray ? '[]' : '{}')
  const isInline = JSON.stringify(value).length <= INLINE
  const inner = `${indent}  `
  out.append(isArray ? '[' : '{', isInline ? (isArray ? '' : ' ') : `\n${inner}`)
  entries.forEach(([key, v], i) => {
    if (key !== null) out.append(token('key', JSON.stringify(key)), ': ')
    write(out, v, inner)
    if (i < entries.length - 1) out.append(isInline ? ', ' : `,\n${inner}`)
  })
  out.append(isInline ? (isArray ? ']' : ' }') : `\n${indent}${isArray ? ']' : '}'}`)
}

/** One event as a list item: id, time, stream, type, then its data pretty-printed. */
export function eventItem(event) {
  return h(
    'li',
    { class: 'event', 'data-id': event.id },
    h(
      'div',
      { class: 'event-head' },
      h('span', { class: 'event-id' }, `#${event.id}`),
      h('time', { datetime: event.time }, clock(event.time)),
      h('span', { class: 'chip' }, event.stream),
      event.type === 'message' ? null : h('span', { class: 'type' }, event.type),
    ),
    jsonView(event.data),
  )
}

/** A button that asks once more before `action` (no blocking confirm() dialog), then shows for a while what it resolved to or its error. */
export function confirmButton(label, question, action) {
  let armed = 0
  const button = h('button', { type: 'button', class: 'btn small' }, label)
  const reset = () => {
    armed = 0
    button.textContent = label
    button.title = ''
    button.disabled = false
    button.classList.remove('danger')
  }
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = question
      button.classList.add('danger')
      armed = setTimeout(reset, 3000)
      return
    }
    clearTimeout(armed)
    button.disabled = true
    button.classList.remove('danger')
    try {
      button.textContent = (await action()) ?? label
    } catch (error) {
      button.textContent = 'failed'
      button.title = error.message
    }
    armed = setTimeout(reset, 3000)
  })
  return button
}

/** Redraws a table body with one row per key, keeping each row's last cell (its buttons) across refreshes. */
export function syncRows(tbody, items, keyOf, cells, actions) {
  const old = new Map([...tbody.rows].map((row) => [row.dataset.key, row]))
  tbody.replaceChildren(
    ...items.map((item) => {
      const key = keyOf(item)
      const row = old.get(key) ?? h('tr', { 'data-key': key }, h('td', { class: 'actions' }, actions(item)))
      row.replaceChildren(...cells(item), row.lastElementChild)
      return row
    }),
  )
}
