// What the bench scripts share: percentiles of measured durations, durations written in µs or ms,
// and the machine the figures came from (they compare only with figures from the same machine).
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'

export interface Percentiles {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
}

/**
 * The p-th percentile of ascending `sorted` by nearest rank: the smallest value with at least p%
 * of the values at or below it (p50 of 10 values is the 5th). NaN when there are none.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] as number
}

/** p50, p90, p99 and max of `durations`, in any order (left as they are), in their own unit. */
export function percentiles(durations: readonly number[]): Percentiles {
  const sorted = [...durations].sort((a, b) => a - b)
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  }
}

export type DurationUnit = 'µs' | 'ms'

/** A duration given in ms as a number of `unit`, `digits` after the point: for a column headed with its unit. */
export const inUnit = (ms: number, unit: DurationUnit, digits = unit === 'µs' ? 1 : 2): string =>
  (unit === 'µs' ? ms * 1000 : ms).toFixed(digits)

/** A duration given in ms, with its unit: µs below a millisecond ("12.3 µs"), ms from there ("4.56 ms"). */
export const formatDuration = (ms: number): string => {
  const unit: DurationUnit = Math.abs(ms) < 1 ? 'µs' : 'ms'
  return `${inUnit(ms, unit)} ${unit}`
}

/** The CPU's model name as the kernel reports it, else as Node's os module does. */
export function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^model name\s*:/.test(l))
    if (line) return line.slice(line.indexOf(':') + 1).trim()
  } catch {
    // Not Linux: os.cpus() below.
  }
  return cpus()[0]?.model.trim() || 'unknown CPU'
}

/** "machine: <CPU model>, 8 cores, 15.5 GiB memory, bun 1.4.5, linux/x64": printed above the figures. */
export function machineLine(): string {
  const memory = (totalmem() / 2 ** 30).toFixed(1)
  return `machine: ${cpuModel()}, ${navigator.hardwareConcurrency} cores, ${memory} GiB memory, bun ${Bun.version}, ${process.platform}/${process.arch}`
}
