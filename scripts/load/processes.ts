// The server side's cost, read from /proc: CPU time (user + system, every thread) and resident
// memory of a process and everything it started (the distributed mode's services and Caddy are
// children of `bun scripts/dev.ts`). Linux only; elsewhere the figures are NaN.
import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100 // USER_HZ on Linux

interface Stat {
  pid: number
  ppid: number
  cpuMs: number
  rssPages: number
}

function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name is in parentheses and may hold spaces: fields count from after it.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return {
      pid,
      ppid: Number(f[1]),
      cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND,
      rssPages: Number(f[21]),
    }
  } catch {
    return null // gone, or not Linux
  }
}

/** `root` and its descendants as they are now. */
function tree(root: number): Stat[] {
  let all: Stat[]
  try {
    all = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => stat(Number(d)))
      .filter((s): s is Stat => s !== null)
  } catch {
    return []
  }
  const out: Stat[] = []
  const wanted = new Set([root])
  // Parents are found before their children only by chance: repeat until nothing new joins.
  for (let grew = true; grew; ) {
    grew = false
    for (const s of all) {
      if (!wanted.has(s.pid) && wanted.has(s.ppid)) {
        wanted.add(s.pid)
        grew = true
      }
    }
  }
  for (const s of all) if (wanted.has(s.pid)) out.push(s)
  return out
}

/** CPU ms used so far by `root` and its descendants (NaN when /proc cannot tell). */
export function treeCpuMs(root: number): number {
  const t = tree(root)
  return t.length ? t.reduce((n, s) => n + s.cpuMs, 0) : Number.NaN
}

/** Resident memory of `root` and its descendants, MiB. */
export function treeRssMiB(root: number): number {
  const t = tree(root)
  return t.length ? (t.reduce((n, s) => n + s.rssPages, 0) * 4096) / 2 ** 20 : Number.NaN
}

/**
 * Resident memory of `root` and its descendants by kind, MiB (/proc/PID/status): `anon` is the
 * processes' own (JS heaps, SQLite's page caches, the allocator's), `file` mapped files (the
 * binaries), `shmem` shared mappings (SQLite's WAL indexes, the -shm files). A leak grows `anon`.
 */
export function treeMemoryMiB(root: number): { anon: number; file: number; shmem: number } {
  const sum = { anon: 0, file: 0, shmem: 0 }
  for (const { pid } of tree(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const kb = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0)
      sum.anon += kb('RssAnon') / 1024
      sum.file += kb('RssFile') / 1024
      sum.shmem += kb('RssShmem') / 1024
    } catch {
      // gone meanwhile
    }
  }
  return sum
}

/** A free port on 127.0.0.1 (a moment ago). */
export function freePort(): number {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

/** Polls `check` until it is true, or throws after `ms` naming `what` (or what `check` threw). */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 60_000) {
  const deadline = performance.now() + ms
  for (;;) {
    if (await check()) return
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what} after ${ms / 1000} s`)
    await Bun.sleep(50)
  }
}

/** Whether `url` answers 2xx now (false while nothing listens). */
export const answers = async (url: string) => (await fetch(url).catch(() => null))?.ok === true

/** SIGTERM, and SIGKILL if it has not ended within `ms`. */
export async function stopChild(child: Bun.Subprocess, ms = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const ended = await Promise.race([child.exited.then(() => true), Bun.sleep(ms).then(() => false)])
  if (!ended) {
    child.kill('SIGKILL')
    await child.exited
  }
}
