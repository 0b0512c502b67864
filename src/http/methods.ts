/** The methods the app answers on `path` (for 405 `Allow`), matching `:param` segments; a WebSocket route counts as GET. */
export function allowedMethods(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set<string>()
  const parts = path.split('/')
  for (const route of routes) {
    const pattern = route.path.split('/')
    if (pattern.length !== parts.length) continue
    if (pattern.every((p, i) => p.startsWith(':') ? parts[i] !== '' : p === parts[i])) methods.add(route.method === 'WS' ? 'GET' : route.method)
  }
  return [...methods].filter((m) => m !== 'ALL').sort()
}
