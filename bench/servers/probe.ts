import { readFileSync, readdirSync } from 'node:fs'

/** RSS and CPU of a server from /proc: its processes plus any children (nginx master + worker), summed. */
export interface Usage { rssKb: number; cpuMs: number }

const TICK_MS = 10 // USER_HZ is 100 on Linux.

export function usageOf(pids: number | readonly number[]): Usage {
  let rssKb = 0, cpuMs = 0
  for (const p of (typeof pids === 'number' ? [pids] : pids).flatMap((pid) => [pid, ...childrenOf(pid)])) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8')
      rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      cpuMs += (Number(fields[11]) + Number(fields[12])) * TICK_MS // utime, stime
    } catch { /* exited */ }
  }
  return { rssKb, cpuMs }
}

/** Open file descriptors of a server and its children (sockets, the database, the binary's own). */
export function openFiles(pid: number): number {
  let n = 0
  for (const p of [pid, ...childrenOf(pid)]) {
    try { n += readdirSync(`/proc/${p}/fd`).length } catch { /* exited */ }
  }
  return n
}

/**
 * CPU time the box used on all cores, interrupts and steal included: with the bench's own CPU taken off, what others
 * used. Tick accounting charges an interrupt to the process it interrupted, so the bench's loopback traffic is in its own share.
 */
export function boxBusyMs(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  return (user + nice + system + irq + softirq + steal) * TICK_MS
}

/**
 * Time the server's main threads (its event loop; nginx: master + worker) spent runnable but waiting for a core:
 * the box's contention, not the server's own work. NaN without a pid.
 */
export function runQueueWaitMs(pid: number): number {
  let ns = 0
  for (const p of [pid, ...childrenOf(pid)]) {
    try { ns += Number(readFileSync(`/proc/${p}/schedstat`, 'utf8').split(' ')[1]) } catch { if (p === pid) return NaN }
  }
  return ns / 1e6
}

/** Processes whose parent is pid. */
export function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name))
    } catch { /* gone */ }
  }
  return out
}
