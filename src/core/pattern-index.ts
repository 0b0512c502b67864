import { isWildcard } from './pattern'

/** One level of a token trie: literal children, the `*` child, and what ends here. */
class Node<T> {
  readonly children = new Map<string, Node<T>>()
  star: Node<T> | undefined
  /** Values whose pattern ends exactly here. */
  readonly ends = new Set<T>()
  /** Values whose pattern ends here with a final `**` (one or more further tokens). */
  readonly rest = new Set<T>()

  get isEmpty(): boolean {
    return this.children.size === 0 && this.star === undefined && this.ends.size === 0 && this.rest.size === 0
  }
}

/**
 * Values filed under patterns (`jobs.*`, `team.7.**`, plain names), found from a stream name in
 * O(its tokens + matches) however many patterns there are, as NATS and MQTT brokers index subscriptions.
 * Plain names, the common case, are one map lookup: the trie holds only the wildcard patterns.
 */
export class PatternIndex<T> {
  private readonly root = new Node<T>()
  private readonly plain = new Map<string, Set<T>>()
  private count = 0

  get size(): number {
    return this.count
  }

  /** Files `value` under a valid pattern. */
  add(pattern: string, value: T): void {
    if (!isWildcard(pattern)) {
      let set = this.plain.get(pattern)
      if (!set) this.plain.set(pattern, (set = new Set()))
      if (!set.has(value)) {
        set.add(value)
        this.count++
      }
      return
    }
    let node = this.root
    const tokens = pattern.split('.')
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]
      if (token === '**') break
      if (token === '*') node = node.star ??= new Node()
      else {
        let child = node.children.get(token)
        if (!child) node.children.set(token, (child = new Node()))
        node = child
      }
    }
    const set = tokens[tokens.length - 1] === '**' ? node.rest : node.ends
    if (!set.has(value)) {
      set.add(value)
      this.count++
    }
  }

  /** Removes `value` from under `pattern`, pruning emptied branches. */
  delete(pattern: string, value: T): void {
    if (!isWildcard(pattern)) {
      const set = this.plain.get(pattern)
      if (!set?.delete(value)) return
      this.count--
      if (set.size === 0) this.plain.delete(pattern)
      return
    }
    const tokens = pattern.split('.')
    const path: [Node<T>, string][] = []
    let node: Node<T> | undefined = this.root
    for (const token of tokens) {
      if (token === '**') break
      path.push([node, token])
      node = token === '*' ? node.star : node.children.get(token)
      if (!node) return
    }
    const set = tokens[tokens.length - 1] === '**' ? node.rest : node.ends
    if (!set.delete(value)) return
    this.count--
    for (let i = path.length - 1; i >= 0 && node.isEmpty; i--) {
      const [parent, token] = path[i]
      if (token === '*') parent.star = undefined
      else parent.children.delete(token)
      node = parent
    }
  }

  /** Calls `visit` once per (pattern, value) filing that matches the stream `name`; a value filed under several matching patterns is visited for each. */
  match(name: string, visit: (value: T) => void): void {
    const plain = this.plain.get(name)
    if (plain) for (const v of plain) visit(v)
    // Deletes prune emptied branches, so an empty root means no wildcard pattern is filed.
    if (!this.root.isEmpty) this.walk(this.root, name.split('.'), 0, visit)
  }

  private walk(node: Node<T>, tokens: string[], at: number, visit: (value: T) => void): void {
    if (at === tokens.length) {
      for (const v of node.ends) visit(v)
      return
    }
    for (const v of node.rest) visit(v)
    const child = node.children.get(tokens[at])
    if (child) this.walk(child, tokens, at + 1, visit)
    if (node.star) this.walk(node.star, tokens, at + 1, visit)
  }
}
