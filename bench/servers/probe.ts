import { readFileSync, readdirSync } from 'node:fs'

/** RSS and CPU of a server from /proc: its process plus any children (nginx master + worker). */
export interface Usage { rssKb: number; cpuMs: number }

const TICK_MS = 10 // USER_HZ is 100 on Linux.

export function usageOf(pid: number): Usage {
  let rssKb = 0, cpuMs = 0
  for (const p of [pid, ...childrenOf(pid)]) {
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

/** Time the server's main thread (its event loop) spent runnable but waiting for a core: the box's contention, not its own work. */
export function runQueueWaitMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6
  } catch {
    return NaN
  }
}

function childrenOf(pid: number): number[] {
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
