// Preloaded into the marketplace's process when a load run has LOAD_STALL_LOG=<file> (`bun
// --preload`): what the process and the machine did, as JSON lines, for finding what stalls the
// event loop (`bun scripts/load/stalls.ts <file>` summarises it second by second):
// - `lag`: the event loop came back this many ms late to a 5 ms timer (over 10 ms only);
// - `wal`: every 250 ms, each database's WAL (frames in it, frames checkpointed: read from its
//   `-shm`, the WAL index's header, without taking a lock), and the JS heap;
// - `tick`: every 10 ms, from a thread of its own (it keeps going while the event loop is stuck),
//   the event loop thread's state (R running or waiting for a core, S sleeping, D in the kernel,
//   as in an fsync, with the kernel's stack then), CPU ticks of that thread and of the others,
//   the machine's busy and total ticks (/proc/stat), and its pressure stall totals (µs some task
//   waited for a core; all tasks waited on I/O: /proc/pressure). Linux only. The sampling costs
//   about 4% of a core, on its own thread (counted with the other threads).
import { appendFileSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isMainThread, Worker as ThreadWorker, workerData } from 'node:worker_threads'

const out = process.env.LOAD_STALL_LOG
const dataDir = process.env.DATA_DIR
// Preloads may run in the process's other threads too: only the sampler thread started here samples.
const SAMPLER = 'mart-stall-sampler'

if (out && isMainThread) {
  const lines: string[] = []
  const emit = (o: object) => lines.push(JSON.stringify({ at: Date.now(), ...o }))
  setInterval(() => {
    if (lines.length) appendFileSync(out, `${lines.splice(0).join('\n')}\n`)
  }, 500).unref()

  let last = performance.now()
  setInterval(() => {
    const now = performance.now()
    const late = now - last - 5
    last = now
    if (late > 10) emit({ k: 'lag', ms: Math.round(late) })
  }, 5).unref()

  setInterval(() => {
    const wal: Record<string, [number, number]> = {}
    if (dataDir) {
      for (const f of readdirSync(dataDir)) {
        if (!f.endsWith('.db-shm')) continue
        try {
          const b = readFileSync(join(dataDir, f)).subarray(0, 100)
          const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
          // WalIndexHdr.mxFrame at byte 16, WalCkptInfo.nBackfill at byte 96 (native order).
          wal[f.slice(0, -'.db-shm'.length)] = [v.getUint32(16, true), v.getUint32(96, true)]
        } catch {
          // Not there yet, or too short: the next round.
        }
      }
    }
    emit({ k: 'wal', wal, heapMiB: Math.round(process.memoryUsage().heapUsed / 1048576) })
  }, 250).unref()

  new ThreadWorker(new URL(import.meta.url), { workerData: SAMPLER }).unref()
} else if (out && workerData === SAMPLER) {
  // The sampler thread.
  const pid = process.pid
  const fields = (text: string) => text.slice(text.lastIndexOf(')') + 2).split(' ')
  const pressure = (what: string, kind: 'some' | 'full') => {
    try {
      const line = readFileSync(`/proc/pressure/${what}`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(kind))
      return Number(line?.match(/total=(\d+)/)?.[1] ?? Number.NaN)
    } catch {
      return Number.NaN
    }
  }
  const lines: string[] = []
  setInterval(() => {
    try {
      const f = fields(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'))
      const state = f[0]
      const mainTicks = Number(f[11]) + Number(f[12])
      let otherTicks = 0
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        if (tid === String(pid)) continue
        try {
          const g = fields(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))
          otherTicks += Number(g[11]) + Number(g[12])
        } catch {
          // A thread that just ended.
        }
      }
      let stack: string | undefined
      if (state === 'D') {
        try {
          stack = readFileSync(`/proc/${pid}/task/${pid}/stack`, 'utf8')
            .split('\n')
            .slice(0, 6)
            .map((l) => l.replace(/^\[<[^>]*>\] /, '').replace(/\+0x.*$/, ''))
            .join(' < ')
        } catch {
          // Not readable (not root): the state alone.
        }
      }
      const cpu = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string)
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number)
      const total = cpu.reduce((a, b) => a + b, 0)
      const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0)
      const cpuWait = pressure('cpu', 'some')
      const ioFull = pressure('io', 'full')
      const tick = { at: Date.now(), k: 'tick', state, mainTicks, otherTicks, busy: total - idle, total }
      lines.push(JSON.stringify({ ...tick, cpuWait, ioFull, stack }))
    } catch {
      // Not Linux: nothing to sample.
    }
  }, 10)
  setInterval(() => {
    if (lines.length) appendFileSync(out, `${lines.splice(0).join('\n')}\n`)
  }, 500)
}
