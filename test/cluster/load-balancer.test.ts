import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Child, freePort, tempDir } from '../helpers/binary'
import { TestCluster } from '../helpers/cluster'
import { eventually, publishEvents } from '../helpers/publisher'
import { transports } from '../helpers/subscriber'

// deploy/nginx-cluster.conf in front of two nodes of the binary on one Redis: a subscriber whose
// node is killed reconnects through the same address and resumes on the other node.

let cluster: TestCluster
let nginx: Child
let url: string
let dir: string

beforeAll(async () => {
  cluster = await TestCluster.start(2)
  dir = tempDir('ringcast-lb-')
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  // Only what ties it to a host is rewritten: addresses, and plain HTTP instead of the certificate.
  const servers = cluster.nodes.map((n) => `    server 127.0.0.1:${n.port} max_fails=1 fail_timeout=10s;`).join('\n')
  const snippet = readFileSync(resolve(import.meta.dir, '../../deploy/nginx-cluster.conf'), 'utf8')
    .replace(/( {4}server 10\.0\.0\.\d+:8080 .*\n)+/, `${servers}\n`)
    .replace('listen 443 ssl http2;', `listen 127.0.0.1:${port};`)
    .replace(/ {4}ssl_certificate.*\n/g, '')
  expect(snippet).toContain(`server 127.0.0.1:${cluster.nodes[1].port}`)
  writeFileSync(join(dir, 'ringcast.conf'), snippet)
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ')
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;\nmaster_process off;\npid ${join(dir, 'nginx.pid')};\nerror_log stderr crit;\nevents {}\nhttp {\n  access_log off;\n  ${temp}\n  include ${join(dir, 'ringcast.conf')};\n}\n`)
  nginx = new Child(Bun.spawn(['nginx', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { cwd: dir, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  await eventually(async () => (await fetch(`${url}/healthz`).then((r) => r.status, () => 0)) === 200, 10_000, 'nginx answering')
})
afterAll(async () => {
  await nginx?.dispose()
  await cluster?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('a subscriber through nginx survives the kill -9 of its node: it reconnects to the same address and resumes on the other', async () => {
  const first = await transports.sse(url, ['lb.*'], { after: 0 })
  const before = []
  for (let i = 0; i < 10; i++) before.push(...(await publishEvents(url, `lb.${i % 2}`, [{ data: { i } }])))
  await first.collect(10)
  // Which node holds it: the node that lists it among its own connections.
  const holders = await Promise.all(cluster.nodes.map(async (n) => ((await (await fetch(`${n.url}/v1/connections`)).json()) as { connections: { patterns: string[] }[] }).connections.some((c) => c.patterns.includes('lb.*'))))
  expect(holders.filter(Boolean)).toHaveLength(1)
  const doomed = cluster.nodes[holders.indexOf(true)]

  doomed.kill('SIGKILL')
  await first.finished.catch(() => undefined)
  const resumed = await transports.sse(url, ['lb.*'], { lastEventId: first.events().at(-1)!.id })
  // Publishes through the same address land on the survivor.
  const after = []
  for (let i = 0; i < 10; i++) after.push(...(await publishEvents(url, `lb.${i % 2}`, [{ data: { i } }])))
  await resumed.collect(10)
  expect([...first.events(), ...resumed.events()].map((e) => e.id)).toEqual([...before, ...after].map((e) => e.id))
  await resumed.close()
})
