import type { HttpResponse } from '../gen/http-conn.ts'
import type { Stamp } from '../gen/payload.ts'

/** Serializable description of a target, sent to generator workers, which rebuild the adapter from it. */
export interface TargetSpec {
  kind: 'ringcast' | 'nchan' | 'raw-bun' | 'url'
  /** http://host:port of the server (of its first node). */
  base: string
  /** The target's name in the tables when not its kind's (`baseline`: an earlier ringcast binary). */
  label?: string
  /** Every node of a cluster, in order (base is the first); absent for one server. */
  nodes?: string[]
  /** --target mode: URL templates with {stream}; `publishBody` with {data}. */
  sse?: string
  ws?: string
  publish?: string
  publishBody?: string
}

export interface HttpRequest { url: string; headers: Record<string, string>; body?: string }

/** What a WebSocket frame meant to the generator. */
export type WsFrame = { kind: 'event'; text: string; id: string | null } | { kind: 'ready' } | { kind: 'other'; what: string } | { kind: 'skip' }

/** How the generator speaks to one kind of server: URLs, framing and resume, per transport. */
export interface Target {
  name: string
  caps: { ws: boolean; poll: boolean; pattern: boolean; batch: boolean; wsResume: boolean }
  /** POST that stores one event whose data is the JSON text `data`. */
  publish(stream: string, data: string): HttpRequest
  /** POST that stores several events in one request (only when caps.batch). */
  publishBatch?(stream: string, data: string[]): HttpRequest
  /** SSE subscription to streams (or one pattern) from the start of a fresh stream, or resuming after lastId. */
  sse(streams: string[], lastId: string | null): HttpRequest
  wsUrl?(streams: string[], lastId: string | null): string
  /** First frame to send once open, or null if the URL alone subscribes. */
  wsHello?(streams: string[], lastId: string | null): string | null
  wsFrame?(text: string): WsFrame
  /** Long-poll request from cursor (null: from the start of a fresh stream). */
  poll?(stream: string, cursor: string | null): HttpRequest
  pollParse?(res: HttpResponse, cursor: string | null): { events: { stamp: Stamp; id: string | null }[]; cursor: string | null }
  /** A GET that reads a page of stored events (autocannon's polling run), if the target has one. */
  readPage?(stream: string): string
}

export const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '')
