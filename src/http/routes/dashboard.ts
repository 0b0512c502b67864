import { Elysia } from 'elysia'
import { ASSETS, PAGE } from '../dashboard/assets'

// Same origin only, nothing inline: event data shown by the page can never run as script or load anything.
const HEADERS = {
  'Content-Security-Policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // The files change with the binary: revalidate rather than run an old page against a new server.
  'Cache-Control': 'no-cache',
}

const serve = (file: { path: string; type: string }) => () => new Response(Bun.file(file.path), { headers: { ...HEADERS, 'Content-Type': file.type } })

/** The dashboard at `/` and its files under `/ui/`, all from the binary; public like /docs (the page asks for a token itself). */
export function dashboardRoutes() {
  const app = new Elysia().get('/', serve(PAGE), { detail: { hide: true } })
  for (const [name, file] of Object.entries(ASSETS)) app.get(`/ui/${name}`, serve(file), { detail: { hide: true } })
  return app
}
