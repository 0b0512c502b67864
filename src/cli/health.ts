import { baseUrl, die } from './client'

/** `ringcast health`: exit 0 when the server answers /readyz, 1 otherwise (for container health checks). */
export async function health(flags: Record<string, string>, env: Record<string, string | undefined>): Promise<void> {
  try {
    const response = await fetch(`${baseUrl(flags, env)}/readyz`, { signal: AbortSignal.timeout(2000) })
    if (!response.ok) die(`not ready: ${response.status} ${await response.text()}`)
  } catch (error) {
    die(`not reachable: ${(error as Error).message}`)
  }
}
