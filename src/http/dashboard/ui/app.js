// The dashboard's entry: asks for a token when the server needs one, learns what it may see, starts the panels.
import { connectionsPanel, groupsPanel } from './admin.js'
import { ApiError, api, claim, session } from './api.js'
import { Charts } from './charts.js'
import { role, showError } from './dom.js'
import { livePanel } from './live.js'
import { publishForm } from './publish.js'
import { followStats, showKpis } from './stats.js'
import { streamDetail } from './stream-detail.js'
import { streamsPanel } from './streams.js'

const $ = (id) => document.getElementById(id)

// A token typed in the dialog is kept for this tab, and the page starts again with it.
role($('login'), 'form').addEventListener('submit', (e) => {
  session.set(e.target.elements.token.value.trim())
  location.reload()
})

/** Opens the token dialog, saying why. */
function askToken(reason) {
  const dialog = $('login')
  showError(role(dialog, 'error'), reason)
  if (!dialog.open) dialog.showModal()
}

/** What the caller may do: null when it must sign in first. */
async function access() {
  try {
    await api('/v1/streams?limit=1')
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null
    throw error
  }
  try {
    await api('/v1/connections')
    return { isAdmin: true }
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return { isAdmin: false }
    throw error
  }
}

function describe(rights) {
  if (!session.token) return { text: 'open server', kind: 'warn', title: 'No key configured: anyone who can reach this server may do anything.' }
  const c = claim()
  const name = c?.sub ?? 'token'
  if (rights.isAdmin) return { text: `${name} · admin`, kind: 'ok', title: 'An admin token.' }
  return { text: name, kind: 'info', title: `subscribe: ${(c?.subscribe ?? []).join(', ') || 'nothing'} · publish: ${(c?.publish ?? []).join(', ') || 'nothing'}` }
}

async function start() {
  let rights
  try {
    rights = await access()
  } catch (error) {
    document.body.append(Object.assign(document.createElement('p'), { className: 'fatal', textContent: `The server did not answer: ${error.message}` }))
    return
  }
  if (rights === null) return askToken(session.token ? 'That token was refused. Paste another one.' : null)
  session.onUnauthorized((error) => askToken(`The server refused the token: ${error.message}`))

  const who = describe(rights)
  Object.assign($('who'), { textContent: who.text, title: who.title })
  $('who').dataset.kind = who.kind
  $('sign-out').hidden = !session.token
  $('sign-out').addEventListener('click', () => {
    session.clear()
    location.reload()
  })
  $('main').hidden = false

  // An admin follows everything; a tenant follows what its token may subscribe to.
  const granted = claim()?.subscribe ?? []
  const patterns = rights.isAdmin || granted.length === 0 ? ['**'] : granted
  const live = livePanel($('live'), patterns)
  const publish = publishForm($('publish'))
  const detail = streamDetail($('stream'), { onWatch: (name) => live.watch([name]), onClose: () => streams.deselect() })
  const streams = streamsPanel($('streams'), (name) => {
    detail.open(name)
    publish.use(name)
  })
  if (rights.isAdmin) {
    connectionsPanel($('connections'))
    groupsPanel($('groups'))
  }

  // Charts need the stats stream: admin only, unless the server runs with --metrics-public.
  let charts = null
  followStats({
    onHistory: (samples) => {
      charts ??= new Charts($('charts'))
      charts.setHistory(samples)
      if (samples.length > 0) showKpis($('kpis'), samples[samples.length - 1])
    },
    onSample: (sample) => {
      charts.push(sample)
      showKpis($('kpis'), sample)
    },
  })
}

start()
