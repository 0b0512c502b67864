import { type BinaryServer, startBinary } from './binary'
import { TestRedis } from './redis-server'

/** Nodes of the compiled binary on one real redis-server (AOF on), each on its own port. */
export class TestCluster {
  private constructor(
    readonly redis: TestRedis,
    readonly nodes: BinaryServer[],
    private readonly args: string[],
  ) {}

  static async start(nodes = 3, args: string[] = []): Promise<TestCluster> {
    const redis = await TestRedis.start()
    try {
      const started = await Promise.all(Array.from({ length: nodes }, () => startBinary({ args: ['--redis', redis.url, ...args] })))
      return new TestCluster(redis, started, args)
    } catch (error) {
      await redis.stop()
      throw error
    }
  }

  /** Starts one more node on the same Redis (a replacement for a killed one). */
  async add(): Promise<BinaryServer> {
    const node = await startBinary({ args: ['--redis', this.redis.url, ...this.args] })
    this.nodes.push(node)
    return node
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose()))
    await this.redis.stop()
  }
}
