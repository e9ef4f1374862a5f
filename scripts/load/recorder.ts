// What one run (or one find-max step) measured: a histogram per metric, errors by what failed and
// its status, and the figures of the second just past for the progress line.
import { Latencies, type Summary } from './histogram.ts'

export interface RunFigures {
  metrics: Record<string, Summary>
  errors: Record<string, number>
  notes: Record<string, number>
  /** The metric that stands for the scenario (its p99 is what --find-max holds to the bound). */
  headline: string
}

export class Recorder {
  readonly metrics = new Map<string, Latencies>()
  readonly errors = new Map<string, number>()
  /** What happened that is not an error but changes what a figure means (a fallback taken). */
  readonly notes = new Map<string, number>()
  private second = new Latencies()
  private secondErrors = 0

  constructor(readonly headline: string) {}

  /** A latency of `metric`, from `from` (a scheduled start, performance.now() clock) to now. */
  since(metric: string, from: number): number {
    const ms = performance.now() - from
    this.record(metric, ms)
    return ms
  }

  record(metric: string, ms: number): void {
    let h = this.metrics.get(metric)
    if (!h) {
      h = new Latencies()
      this.metrics.set(metric, h)
    }
    h.record(ms)
    if (metric === this.headline) this.second.record(ms)
  }

  /** A failure: `what` (the request), `status` (the HTTP status, or what went wrong instead). */
  error(what: string, status: number | string): void {
    const key = `${what} ${status}`
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1)
    this.secondErrors++
  }

  note(what: string): void {
    this.notes.set(what, (this.notes.get(what) ?? 0) + 1)
  }

  get errorCount(): number {
    let n = 0
    for (const v of this.errors.values()) n += v
    return n
  }

  /** The headline's figures since the last call, then starts a new second. */
  takeSecond(): { done: number; p99: number; errors: number } {
    const s = this.second.summary()
    const out = { done: s.count, p99: s.p99, errors: this.secondErrors }
    this.second.reset()
    this.secondErrors = 0
    return out
  }

  figures(): RunFigures {
    return {
      headline: this.headline,
      metrics: Object.fromEntries([...this.metrics].map(([k, h]) => [k, h.summary()])),
      errors: Object.fromEntries(this.errors),
      notes: Object.fromEntries(this.notes),
    }
  }
}
