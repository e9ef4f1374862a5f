// Latencies in HDR histograms (hdr-histogram-js): every value kept to 3 significant digits in
// constant memory, so a long run at a high rate costs no more than a short one, and the tail
// (p99.9, max) is exact enough to trust.
import { build, type Histogram } from 'hdr-histogram-js'

export interface Summary {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

/** Recorded in microseconds (the histogram holds integers), answered in milliseconds. */
export class Latencies {
  private readonly h: Histogram = build({ numberOfSignificantValueDigits: 3 })

  record(ms: number): void {
    this.h.recordValue(Math.max(0, Math.round(ms * 1000)))
  }

  get count(): number {
    return this.h.totalCount
  }

  reset(): void {
    this.h.reset()
  }

  summary(): Summary {
    return summarise(this.h)
  }
}

/** p50/p90/p99/p99.9/max and mean of a histogram of µs, in ms; NaN for an empty one. */
export function summarise(h: Histogram): Summary {
  const count = h.totalCount
  const at = (p: number) => (count === 0 ? Number.NaN : h.getValueAtPercentile(p) / 1000)
  return {
    count,
    mean: count === 0 ? Number.NaN : h.mean / 1000,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: count === 0 ? Number.NaN : h.maxValue / 1000,
  }
}
