import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import { wsPathItem } from './routes/ws'
import { QUERY_REFERENCES } from './schemas'
// Embedded in the binary: the host may be offline, so /docs must not load anything from a CDN.
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import swaggerJs from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }

const ASSETS = '/docs/assets'

export function docs(version: string) {
  return new Elysia()
    .get(`${ASSETS}/swagger-ui-bundle.js`, () => new Response(Bun.file(swaggerJs), { headers: { 'Content-Type': 'text/javascript', 'Cache-Control': 'public, max-age=86400' } }), { detail: { hide: true } })
    .get(`${ASSETS}/swagger-ui.css`, () => new Response(Bun.file(swaggerCss), { headers: { 'Content-Type': 'text/css', 'Cache-Control': 'public, max-age=86400' } }), { detail: { hide: true } })
    .use(
      openapi({
        path: '/docs',
        specPath: '/docs/json',
        provider: 'swagger-ui',
        exclude: { paths: [`${ASSETS}/swagger-ui-bundle.js`, `${ASSETS}/swagger-ui.css`] },
        references: QUERY_REFERENCES as never,
        // An absolute spec URL: the plugin's relative `docs/json` breaks the page when opened as /docs/.
        swagger: { url: '/docs/json', cdn: `${ASSETS}/swagger-ui-bundle.js`, theme: `${ASSETS}/swagger-ui.css`, validatorUrl: 'none', autoDarkMode: false } as never,
        documentation: {
          info: {
            title: 'ringcast',
            version,
            description:
              'Event fan-out server: publish over HTTP; receive over Server-Sent Events, WebSocket (/v1/ws) or HTTP polling, resuming exactly by id. ' +
              'Every event id is global and strictly increasing; `after`, `Last-Event-ID` and `next` all take it. Errors are RFC 9457 problem+json.',
          },
          // Relative: the document is served by the server it describes, whatever address it is reached at.
          servers: [{ url: '/', description: 'This server' }],
          paths: { '/v1/ws': wsPathItem as never },
          components: {
            securitySchemes: {
              bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
              cookie: { type: 'apiKey', in: 'cookie', name: 'ringcast_token' },
              accessToken: { type: 'apiKey', in: 'query', name: 'access_token', description: 'A token or (better) a ticket from POST /v1/tickets.' },
            },
          },
          // Needed only when the server runs with --jwt-secret or --jwt-key.
          security: [{ bearer: [] }, { cookie: [] }, { accessToken: [] }],
          tags: [
            { name: 'publish', description: 'Write events (durable: answered after commit).' },
            { name: 'subscribe', description: 'SSE, WebSocket, polling, long-polling and export.' },
            { name: 'streams', description: 'Stream stats and settings.' },
            { name: 'admin', description: 'Live connections.' },
            { name: 'auth', description: 'Tickets for URLs. Tokens: Authorization: Bearer, cookie ringcast_token, or ?access_token=.' },
            { name: 'operations', description: 'Health, readiness, metrics.' },
          ],
        },
      }),
    )
}
