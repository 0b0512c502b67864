// The publish form under the live view: one event (stream, type, JSON data) for trying things out.
import { api } from './api.js'
import { role } from './dom.js'

/** Wires the form; returns `use(stream)` to prefill the stream. */
export function publishForm(form) {
  const result = role(form, 'result')
  const say = (text, kind) => {
    result.textContent = text
    result.dataset.kind = kind
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const fields = new FormData(form)
    const stream = String(fields.get('stream')).trim()
    const type = String(fields.get('type')).trim()
    const text = String(fields.get('data')).trim()
    let data = null
    try {
      data = text === '' ? null : JSON.parse(text)
    } catch (error) {
      return say(`Data is not JSON: ${error.message}`, 'bad')
    }
    try {
      const stored = await api(`/v1/streams/${encodeURIComponent(stream)}/events`, { method: 'POST', body: { ...(type && { type }), data } })
      say(`stored as #${stored.id}${stored.duplicate ? ' (duplicate)' : ''}`, 'ok')
    } catch (error) {
      say(error.message, 'bad')
    }
  })
  form.elements.data.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit()
  })
  return {
    use(stream) {
      form.elements.stream.value = stream
    },
  }
}
