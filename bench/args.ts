/** Command line of bench/run.ts. */
export interface Args {
  isQuick: boolean
  /** Peers started next to ringcast, in this order; every scenario alternates over all of them. */
  peers: Peer[]
  /** Bench the peers alone (no ringcast). */
  isPeerOnly: boolean
  /** --target: SSE URL template of an external server; --publish and --ws complete it. */
  target: { sse: string; publish: string; ws?: string; publishBody?: string; pid: number } | null
  scenarios: string[]
  /** Run ringcast from src/main.ts instead of the compiled binary. */
  fromSource: boolean
  workers: number
  /** --cluster N: also N ringcast nodes and N Nchan nodes, each set on its own redis-server; 0 when not asked. */
  cluster: number
  /** --baseline PATH: another ringcast binary (an earlier build) run as the target `baseline`. */
  baseline: string | null
  /** --cold: no warm-up round before the first scenario (the rows then include each server's start-up work). */
  isCold: boolean
  /** --repeat N: each fan-out and http scenario N times per target (alternating), reporting the median run by CPU per unit (http: row by row). */
  repeat: number
}

export type Peer = 'nchan' | 'raw-bun' | 'raw-bun-durable'
const PEERS: Peer[] = ['nchan', 'raw-bun', 'raw-bun-durable']

export const USAGE = `usage: bun bench/run.ts [--quick] [--peer nchan|raw-bun|raw-bun-durable]... [--baseline PATH] [--peer-only] [--cluster N] [--scenario NAME]... [--source] [--workers N] [--cold] [--repeat N]
       bun bench/run.ts --target 'http://host:port/sse?topic={stream}' --publish 'http://host:port/pub?topic={stream}'
                        [--publish-body '{"data":{data}}'] [--ws 'ws://host:port/ws?topic={stream}'] [--pid SERVER_PID]
scenarios: sse-100 sse-1000 ws-100 ws-1000 mixed-20 mixed-50 mixed-100 poll-50 streams-100 pattern storm idle http
           cross-node (with --cluster), soak (10 min), streams-many (1 000 000 streams): only when named, or small with --quick`

export function parseArgs(argv: string[]): Args {
  const args: Args = { isQuick: false, peers: [], isPeerOnly: false, target: null, scenarios: [], fromSource: false, workers: 2, cluster: 0, baseline: null, isCold: false, repeat: 1 }
  const t: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`)
      return v
    }
    if (a === '--quick') args.isQuick = true
    else if (a === '--source') args.fromSource = true
    else if (a === '--cold') args.isCold = true
    else if (a === '--peer-only') args.isPeerOnly = true
    else if (a === '--peer') {
      const p = value() as Peer
      if (!PEERS.includes(p)) throw new Error(`unknown peer ${p}: built in are ${PEERS.join(', ')} (use --target for others)`)
      if (!args.peers.includes(p)) args.peers.push(p)
    } else if (a === '--scenario') args.scenarios.push(...value().split(','))
    else if (a === '--workers') args.workers = Math.max(1, Number(value()))
    else if (a === '--repeat') args.repeat = Math.max(1, Math.floor(Number(value())) || 1)
    else if (a === '--baseline') args.baseline = value()
    else if (a === '--cluster') {
      args.cluster = Number(value())
      if (!Number.isInteger(args.cluster) || args.cluster < 2 || args.cluster > 4) throw new Error(`--cluster needs a number of nodes from 2 to 4 (the box has 2 cores)\n${USAGE}`)
    }
    else if (['--target', '--publish', '--ws', '--publish-body', '--pid'].includes(a)) t[a.slice(2)] = value()
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0) }
    else throw new Error(`unknown argument ${a}\n${USAGE}`)
  }
  if (args.isPeerOnly && !args.peers.length) throw new Error(`--peer-only needs --peer\n${USAGE}`)
  if (t.target) {
    if (args.cluster) throw new Error(`--cluster starts its own nodes; it does not go with --target\n${USAGE}`)
    if (!t.publish) throw new Error(`--target needs --publish (a URL template that publishes to {stream})\n${USAGE}`)
    args.target = { sse: t.target, publish: t.publish, ws: t.ws, publishBody: t['publish-body'], pid: Number(t.pid ?? 0) }
  }
  return args
}
