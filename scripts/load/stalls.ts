// `bun scripts/load/stalls.ts <file>`: what a LOAD_STALL_LOG file (scripts/load/stall-monitor.ts)
// says, second by second from the first record: the longest event-loop delay, the CPU the event
// loop's thread had (100% = one core) and the process's other threads, how busy the machine's
// cores were (100% = all), how long some task of the machine waited for a core and all of them
// waited on I/O (Linux's pressure stall information), time the event loop's thread spent in the
// kernel (D: fsync, mostly), and the WALs that started over that second (database@frames before).
import { readFileSync } from 'node:fs'

type Rec =
  | { at: number; k: 'lag'; ms: number }
  | { at: number; k: 'wal'; wal: Record<string, [number, number]>; heapMiB: number }
  | {
      at: number
      k: 'tick'
      state: string
      mainTicks: number
      otherTicks: number
      busy: number
      total: number
      cpuWait: number
      ioFull: number
      stack?: string
    }

const file = process.argv[2]
if (!file) {
  console.error('usage: bun scripts/load/stalls.ts <LOAD_STALL_LOG file>')
  process.exit(2)
}
const recs = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Rec)
  .sort((a, b) => a.at - b.at)
if (!recs.length) process.exit(0)
const t0 = (recs[0] as Rec).at

interface Second {
  maxLag: number
  lagMs: number
  main: number
  others: number
  busy: number
  total: number
  kernelMs: number
  cpuWaitUs: number
  ioFullUs: number
  restarts: string[]
  heap: number
}
const seconds = new Map<number, Second>()
const at = (t: number) => {
  const s = Math.floor((t - t0) / 1000)
  let v = seconds.get(s)
  if (!v) {
    v = {
      maxLag: 0,
      lagMs: 0,
      main: 0,
      others: 0,
      busy: 0,
      total: 0,
      kernelMs: 0,
      cpuWaitUs: 0,
      ioFullUs: 0,
      restarts: [],
      heap: 0,
    }
    seconds.set(s, v)
  }
  return v
}
const stacks = new Map<string, number>()
let lastTick: Extract<Rec, { k: 'tick' }> | undefined
let lastWal: Record<string, [number, number]> = {}
for (const r of recs) {
  const s = at(r.at)
  if (r.k === 'lag') {
    s.maxLag = Math.max(s.maxLag, r.ms)
    s.lagMs += r.ms
  } else if (r.k === 'wal') {
    for (const [db, [frames]] of Object.entries(r.wal)) {
      const before = lastWal[db]?.[0]
      if (before !== undefined && frames < before) s.restarts.push(`${db}@${before}`)
    }
    lastWal = r.wal
    s.heap = r.heapMiB
  } else {
    if (lastTick) {
      s.main += r.mainTicks - lastTick.mainTicks
      s.others += r.otherTicks - lastTick.otherTicks
      s.busy += r.busy - lastTick.busy
      s.total += r.total - lastTick.total
      if (r.state === 'D') s.kernelMs += r.at - lastTick.at
      s.cpuWaitUs += r.cpuWait - lastTick.cpuWait
      s.ioFullUs += r.ioFull - lastTick.ioFull
    }
    if (r.stack) stacks.set(r.stack, (stacks.get(r.stack) ?? 0) + 1)
    lastTick = r
  }
}
const pct = (n: number, d: number) => (d ? `${Math.round((100 * n) / d)}%` : '-')
console.log(
  '| s | max lag ms | lag ms | event loop CPU | other threads | machine busy | waited for a core ms | all waited on I/O ms | in kernel (D) ms | heap MiB | WALs started over (db@frames) |',
)
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
const ms = (us: number) => (Number.isNaN(us) ? '-' : String(Math.round(us / 1000)))
for (const [s, v] of [...seconds].sort((a, b) => a[0] - b[0])) {
  // Ticks are 10 ms: a thread's ticks in a second, over 100, is its share of one core.
  console.log(
    `| ${s} | ${v.maxLag} | ${v.lagMs} | ${v.main}% | ${v.others}% | ${pct(v.busy, v.total)} | ${ms(v.cpuWaitUs)} | ${ms(v.ioFullUs)} | ${v.kernelMs} | ${v.heap} | ${v.restarts.join(' ')} |`,
  )
}
const all = [...seconds.values()]
const sum = (f: (v: Second) => number) => all.reduce((n, v) => n + f(v), 0)
console.log(
  `\n${all.length} s: the event loop late by ${sum((v) => v.lagMs)} ms in all (the longest ${Math.max(...all.map((v) => v.maxLag))} ms), ` +
    `its thread on a core ${Math.round(sum((v) => v.main) / all.length)}% on average and in the kernel ${sum((v) => v.kernelMs)} ms; ` +
    `some task of the machine waiting for a core ${ms(sum((v) => v.cpuWaitUs) / all.length)} ms a second`,
)
if (stacks.size) {
  console.log('\nthe event loop thread in the kernel (D), by stack (10 ms samples):')
  for (const [stack, n] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${n}\t${stack}`)
}
