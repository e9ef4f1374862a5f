// One measured stretch: a scenario at a rate for some seconds on the open loop, with a progress line
// each second, what the server's processes and the generator spent in CPU, and the figures.
import { treeCpuMs, treeMemoryMiB, treeRssMiB } from './processes.ts'
import { Recorder, type RunFigures } from './recorder.ts'
import { fixed } from './report.ts'
import type { Scenario } from './scenarios.ts'
import { openLoop } from './schedule.ts'

export interface StepResult extends RunFigures {
  scenario: string
  offered: number
  seconds: number
  started: number
  /** Requests started per second over the schedule: below the offered rate, the generator lagged. */
  achieved: number
  /** Headline operations finished per second, from the first start to the last answer. */
  completed: number
  errorCount: number
  maxStartLagMs: number
  /** CPU ms of the server's processes (every thread, every child) per operation started. */
  serverCpuMsPerOp: number
  /** CPU ms of this generator per operation started. */
  generatorCpuMsPerOp: number
  serverRssMiB: number
  /** The server's resident memory each second of the step, MiB (growth over a soak shows here). */
  serverRssEachSecond: number[]
  /** The same by kind (processes.ts treeMemoryMiB): what grows when RSS grows. */
  serverMemoryEachSecond: { anon: number; file: number; shmem: number }[]
}

/** How long the last answers may take after the last start (each request has its own timeout too). */
const DRAIN_MS = 35_000

let nextIndex = 0

export async function runStep(
  s: Scenario,
  o: { rate: number; seconds: number; serverPids: number[]; quiet: boolean; label: string },
): Promise<StepResult> {
  const rec = new Recorder(s.headline)
  // A server not started here (--url): its processes are not ours to read.
  const cpu = () =>
    o.serverPids.length ? o.serverPids.reduce((n, pid) => n + treeCpuMs(pid), 0) : Number.NaN
  let open = 0
  let started = 0
  const server0 = cpu()
  const gen0 = process.cpuUsage()
  const t0 = performance.now()
  let second = 0
  const rss = () =>
    o.serverPids.length ? o.serverPids.reduce((n, pid) => n + treeRssMiB(pid), 0) : Number.NaN
  const rssEachSecond: number[] = []
  const memoryEachSecond: { anon: number; file: number; shmem: number }[] = []
  const memory = () => {
    const sum = { anon: 0, file: 0, shmem: 0 }
    for (const pid of o.serverPids) {
      const m = treeMemoryMiB(pid)
      sum.anon += Math.round(m.anon)
      sum.file += Math.round(m.file)
      sum.shmem += Math.round(m.shmem)
    }
    return sum
  }
  const tick = setInterval(() => {
    second++
    const f = rec.takeSecond()
    const now = rss()
    rssEachSecond.push(Math.round(now))
    if (o.serverPids.length) memoryEachSecond.push(memory())
    if (!o.quiet) {
      console.error(
        `${o.label} ${String(second).padStart(3)} s: offered ${o.rate}/s, started ${started}, ` +
          `${f.done} done in the last second, p99 ${fixed(f.p99)} ms, errors ${f.errors}, in flight ${open}` +
          (Number.isNaN(now) ? '' : `, server RSS ${now.toFixed(0)} MiB`),
      )
    }
  }, 1000)
  const loop = await openLoop({
    rate: o.rate,
    seconds: o.seconds,
    fire: (_i, at) => {
      started++
      open++
      return s.run(nextIndex++, at, rec).finally(() => open--)
    },
  })
  await Promise.race([Promise.all(loop.inFlight), Bun.sleep(DRAIN_MS)])
  const elapsedMs = performance.now() - t0
  clearInterval(tick)
  const gen = process.cpuUsage(gen0)
  const server = cpu() - server0
  const figures = rec.figures()
  const headline = figures.metrics[s.headline]
  return {
    scenario: s.name,
    offered: o.rate,
    seconds: o.seconds,
    started,
    achieved: started / Math.max(o.seconds, loop.scheduleMs / 1000),
    completed: ((headline?.count ?? 0) * 1000) / elapsedMs,
    errorCount: rec.errorCount,
    maxStartLagMs: loop.maxStartLagMs,
    serverCpuMsPerOp: server / Math.max(1, started),
    generatorCpuMsPerOp: (gen.user + gen.system) / 1000 / Math.max(1, started),
    serverRssMiB: rss(),
    serverRssEachSecond: rssEachSecond,
    serverMemoryEachSecond: memoryEachSecond,
    ...figures,
  }
}
