// --find-max: the rate steps up geometrically until a step is bad (its p99 over the bound, any
// error, or the generator unable to offer the rate); the answer is the last good step.

export interface Step {
  rate: number
  /** The headline metric's p99, ms. */
  p99: number
  errors: number
  /** Requests started per second over the step. */
  achieved: number
}

export interface StepPlan {
  start: number
  factor: number
  maxRate: number
  p99Ms: number
}

/** Good: no error, p99 within the bound, and at least 95% of the offered rate really offered. */
export const isGood = (s: Step, p99Ms: number): boolean =>
  s.errors === 0 && s.p99 <= p99Ms && s.achieved >= 0.95 * s.rate

/** The next rate to try after `steps`, or null: stop (a bad step, or the ceiling reached). */
export function nextRate(steps: readonly Step[], plan: StepPlan): number | null {
  const last = steps.at(-1)
  if (!last) return plan.start
  if (!isGood(last, plan.p99Ms)) return null
  if (last.rate >= plan.maxRate) return null
  return Math.min(plan.maxRate, Math.max(last.rate + 1, Math.round(last.rate * plan.factor)))
}

/** The highest rate whose step was good, before the first bad one; undefined if the first was bad. */
export function lastGood(steps: readonly Step[], p99Ms: number): Step | undefined {
  let good: Step | undefined
  for (const s of steps) {
    if (!isGood(s, p99Ms)) break
    good = s
  }
  return good
}
