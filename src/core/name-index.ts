class Node<T> {
  // Most nodes are leaves: they get a map only once they have a child (fewer objects for the GC to mark).
  children: Map<string, Node<T>> | undefined
  value: T | undefined
}

/**
 * Values by dotted name, searchable by pattern in O(matches + the pattern's tokens) rather than
 * O(every name): a wildcard poll or listing does not scan a hundred thousand streams.
 */
export class NameIndex<T> {
  private readonly root = new Node<T>()
  private count = 0

  get size(): number {
    return this.count
  }

  set(name: string, value: T): void {
    let node = this.root
    for (const token of name.split('.')) {
      let child = node.children?.get(token)
      if (!child) (node.children ??= new Map()).set(token, (child = new Node()))
      node = child
    }
    if (node.value === undefined) this.count++
    node.value = value
  }

  delete(name: string): void {
    const path: [Node<T>, string][] = []
    let node: Node<T> | undefined = this.root
    for (const token of name.split('.')) {
      path.push([node, token])
      node = node.children?.get(token)
      if (!node) return
    }
    if (node.value === undefined) return
    node.value = undefined
    this.count--
    for (let i = path.length - 1; i >= 0 && node.value === undefined && !node.children?.size; i--) {
      const [parent, token] = path[i]
      parent.children!.delete(token)
      if (parent.children!.size === 0) parent.children = undefined
      node = parent
    }
  }

  /** Values whose names a valid pattern matches, in no particular order. */
  select(pattern: string, out: T[] = []): T[] {
    this.walk(this.root, pattern.split('.'), 0, out)
    return out
  }

  private walk(node: Node<T>, tokens: string[], at: number, out: T[]): void {
    if (at === tokens.length) {
      if (node.value !== undefined) out.push(node.value)
      return
    }
    const token = tokens[at]
    if (!node.children) return
    if (token === '**') {
      for (const child of node.children.values()) collect(child, out)
      return
    }
    if (token === '*') {
      for (const child of node.children.values()) this.walk(child, tokens, at + 1, out)
      return
    }
    const child = node.children.get(token)
    if (child) this.walk(child, tokens, at + 1, out)
  }
}

/** Every value in the subtree, iteratively (names are at most 16 tokens, but subtrees can be wide). */
function collect<T>(from: Node<T>, out: T[]): void {
  const stack = [from]
  while (stack.length > 0) {
    const node = stack.pop()!
    if (node.value !== undefined) out.push(node.value)
    if (node.children) for (const child of node.children.values()) stack.push(child)
  }
}
