// Admin panels: live connections (disconnect one) and consumer groups (replay dead letters), polled every three seconds.
import { api } from './api.js'
import { ago, bytes, confirmButton, count, every, h, rate, role, showError, syncRows } from './dom.js'

/** Polls `path` into a panel's table; `list(answer)` picks the rows. */
function tablePanel(root, path, list, keyOf, cells, actions) {
  root.hidden = false
  every(3000, async () => {
    try {
      const items = list(await api(path))
      showError(role(root, 'error'), null)
      role(root, 'total').textContent = count(items.length)
      role(root, 'empty').hidden = items.length > 0
      syncRows(role(root, 'rows'), items, keyOf, cells, actions)
    } catch (error) {
      showError(role(root, 'error'), error.message)
    }
  })
}

const td = (text, cls) => h('td', { class: cls }, text)

export function connectionsPanel(root) {
  tablePanel(
    root,
    '/v1/connections',
    (answer) => answer.connections,
    (c) => c.id,
    (c) => [
      td(c.id, 'mono'),
      td(h('span', { class: `badge t-${c.transport}` }, c.transport)),
      td(c.remote, 'mono'),
      td(c.patterns.join(', '), 'mono clip'),
      td(count(c.delivered), 'num'),
      td(bytes(c.bufferedBytes), 'num'),
      td(ago(c.connectedAt), 'muted'),
    ],
    (c) =>
      confirmButton('Disconnect', 'Sure?', async () => {
        await api(`/v1/connections/${encodeURIComponent(c.id)}`, { method: 'DELETE' })
        return 'disconnected'
      }),
  )
}

export function groupsPanel(root) {
  tablePanel(
    root,
    '/v1/groups',
    (answer) => answer.groups,
    (g) => g.group,
    (g) => [
      td(g.group, 'name'),
      td(g.streams.join(', '), 'mono clip'),
      td(count(g.lag), `num${g.lag > 0 ? ' warn' : ''}`),
      td(count(g.pending), 'num'),
      td(rate(g.acksPerSecond), 'num'),
      td(g.consumers.length === 0 ? '–' : g.consumers.map((c) => c.consumer).join(', '), 'clip'),
      td(count(g.deadLetters), `num${g.deadLetters > 0 ? ' bad' : ''}`),
    ],
    (g) =>
      confirmButton('Replay DLQ', 'Replay all?', async () => {
        const result = await api(`/v1/groups/${encodeURIComponent(g.group)}/dlq/replay`, { method: 'POST', body: {} })
        return `replayed ${result.replayed.length}`
      }),
  )
}
