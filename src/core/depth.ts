/**
 * Whether a parsed JSON value nests arrays and objects deeper than `maxDepth` (a scalar is depth 0).
 * Iterative on purpose: a recursive walk, like JSON.stringify, overflows the stack on the very input it must refuse.
 */
export function isDeeperThan(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return false
  const stack: [object, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (depth > maxDepth) return true
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return false
}
