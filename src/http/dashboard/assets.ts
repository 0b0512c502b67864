// The dashboard's files, embedded in the binary: the page must work on a host with no internet.
import uplotCss from 'uplot/dist/uPlot.min.css' with { type: 'file' }
import uplotJs from 'uplot/dist/uPlot.esm.js' with { type: 'file' }
import admin from './ui/admin.js' with { type: 'file' }
import api from './ui/api.js' with { type: 'file' }
import app from './ui/app.js' with { type: 'file' }
import charts from './ui/charts.js' with { type: 'file' }
import dom from './ui/dom.js' with { type: 'file' }
import favicon from './ui/favicon.svg' with { type: 'file' }
import index from './ui/index.html' with { type: 'file' }
import live from './ui/live.js' with { type: 'file' }
import publish from './ui/publish.js' with { type: 'file' }
import stats from './ui/stats.js' with { type: 'file' }
import streamDetail from './ui/stream-detail.js' with { type: 'file' }
import streams from './ui/streams.js' with { type: 'file' }
import style from './ui/style.css' with { type: 'file' }

const JS = 'text/javascript; charset=utf-8'

/** The page itself, served at `/`. */
export const PAGE = { path: index, type: 'text/html; charset=utf-8' }

/** Everything the page loads, by the name it has under /ui/. */
export const ASSETS: Record<string, { path: string; type: string }> = {
  'admin.js': { path: admin, type: JS },
  'api.js': { path: api, type: JS },
  'app.js': { path: app, type: JS },
  'charts.js': { path: charts, type: JS },
  'dom.js': { path: dom, type: JS },
  'live.js': { path: live, type: JS },
  'publish.js': { path: publish, type: JS },
  'stats.js': { path: stats, type: JS },
  'stream-detail.js': { path: streamDetail, type: JS },
  'streams.js': { path: streams, type: JS },
  'uplot.js': { path: uplotJs, type: JS },
  'style.css': { path: style, type: 'text/css; charset=utf-8' },
  'uplot.css': { path: uplotCss, type: 'text/css; charset=utf-8' },
  'favicon.svg': { path: favicon, type: 'image/svg+xml' },
}
