import { RingcastError } from '../core/errors'
import { isSameOrigin, type Origins } from './cors'

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback'])
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/**
 * For a server running open (no key): refuses what a web page could make a browser send to it.
 * A page on another origin may not call it (CSRF through "simple" requests), and a name that is
 * not the server's may not reach it (DNS rebinding). IP literals and loopback names always may,
 * as development servers allow; `--allowed-hosts` adds names, `*` turns the Host check off.
 */
export class HostGuard {
  private readonly hosts: ReadonlySet<string>
  private readonly isAnyHost: boolean
  // Host headers seen and whether they are ours: a request asks a map, not a regular expression (bounded).
  private readonly seen = new Map<string, boolean>()

  constructor(
    private readonly isOpen: boolean,
    allowedHosts: readonly string[],
    private readonly origins: Origins,
  ) {
    this.isAnyHost = allowedHosts.includes('*')
    this.hosts = new Set(allowedHosts.map((h) => h.toLowerCase()))
  }

  /** Throws forbidden for a foreign page or an unknown Host; does nothing when the server requires tokens. */
  check(request: Request): void {
    if (!this.isOpen) return
    const host = request.headers.get('host')
    if (!this.isAnyHost && (host === null || !this.isKnownHost(host))) {
      throw new RingcastError('forbidden', `Host "${(host ?? '').slice(0, 80)}" is not a name this server answers for.`, 'An open server answers its IP addresses and loopback names; add other names with --allowed-hosts (a proxy may use --allowed-hosts "*").')
    }
    const origin = request.headers.get('origin')
    if (origin !== null && !isSameOrigin(request) && !this.origins.allows(origin)) {
      throw new RingcastError('forbidden', `A page from ${origin.slice(0, 80)} may not call this open server.`, 'Add the page\'s origin to --cors-origin, or configure a key so every call needs a token.')
    }
  }

  private isKnownHost(host: string): boolean {
    let isOurs = this.seen.get(host)
    if (isOurs === undefined) {
      if (this.seen.size >= 256) this.seen.clear()
      this.seen.set(host, (isOurs = this.isServerName(hostnameOf(host))))
    }
    return isOurs
  }

  private isServerName(name: string): boolean {
    return IPV4.test(name) || name.includes(':') || LOOPBACK_NAMES.has(name) || name.endsWith('.localhost') || this.hosts.has(name)
  }
}

/** The name part of a Host header: no port, no IPv6 brackets, lower case. */
function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return h.slice(1, end < 0 ? undefined : end)
  }
  const colon = h.lastIndexOf(':')
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h
}
