import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import type { Server as BunServer } from 'bun'
import { MIN_COMPRESS_BYTES } from './transports/wire'

/** Certificate and key as PEM text, read from the --tls-cert / --tls-key files. */
export interface TlsFiles {
  cert: string
  key: string
}

/** A TLS setting that cannot be used; `message` is one line naming it. */
export class TlsError extends Error {}

/** Reads and checks a certificate and key pair: the files exist, parse, and belong together. */
export function readTls(certPath: string, keyPath: string): TlsFiles {
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(path, 'utf8')
    } catch (error) {
      throw new TlsError(`invalid ${flag} ${path}: cannot read it (${(error as Error).message})`)
    }
  }
  const files = { cert: read(certPath, '--tls-cert'), key: read(keyPath, '--tls-key') }
  try {
    createSecureContext(files)
  } catch (error) {
    throw new TlsError(`invalid --tls-cert ${certPath} / --tls-key ${keyPath}: ${(error as Error).message}`)
  }
  return files
}

/**
 * The Bun server of the app, and after a TLS reload the earlier one while its open connections finish.
 * Bun cannot swap a listening socket's certificate, so a reload listens anew with the new files.
 */
export class Listener {
  private current: BunServer<unknown>
  private readonly retiring = new Set<BunServer<unknown>>()

  constructor(private readonly listen: (tls: TlsFiles | undefined) => BunServer<unknown>, tls: TlsFiles | undefined) {
    this.current = listen(tls)
  }

  get port(): number {
    return this.current.port!
  }

  /** Publishes a WebSocket frame to a topic on every server that still holds sockets (deflated for those that asked, when large enough). */
  publish(topic: string, frame: string): number {
    const compress = frame.length >= MIN_COMPRESS_BYTES
    let sent = this.current.publish(topic, frame, compress)
    for (const server of this.retiring) sent += server.publish(topic, frame, compress)
    return sent
  }

  /** Listens on the same port with new certificate files; connections already open stay where they are. */
  reload(tls: TlsFiles): void {
    const old = this.current
    this.retiring.add(old)
    // The port must be free before listening again: Bun binds without SO_REUSEPORT here.
    old.stop(false).then(() => this.retiring.delete(old))
    this.current = this.listen(tls)
  }

  /** Stops listening; resolves when every connection has ended (or at once with `isForced`). */
  async stop(isForced: boolean): Promise<void> {
    await Promise.all([this.current, ...this.retiring].map((server) => server.stop(isForced)))
  }
}
