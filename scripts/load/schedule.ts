// The open loop: request i starts at t0 + i/rate whatever the server does. A slow answer never
// delays the next start (a closed loop would, and so hide the stall it caused: coordinated
// omission); each request's latency is measured from its scheduled start, not from when the event
// loop got round to sending it.

/** When request `i` (from 0) is due, in the clock of `t0` (ms). */
export const scheduledAt = (t0: number, i: number, rate: number): number => t0 + (i * 1000) / rate

/** How many of `total` requests are due `elapsedMs` after t0: the first is due at once. */
export const dueBy = (elapsedMs: number, rate: number, total: number): number =>
  elapsedMs < 0 ? 0 : Math.min(total, Math.floor((elapsedMs * rate) / 1000) + 1)

export interface OpenLoop {
  rate: number
  seconds: number
  /** Starts request `i`, due at `at` (performance.now() clock); never awaited by the schedule. */
  fire(i: number, at: number): Promise<unknown>
  now?: () => number
  sleep?: (ms: number) => Promise<unknown>
}

export interface LoopResult {
  /** Requests started. */
  started: number
  /** From t0 to the last start. */
  scheduleMs: number
  /** The latest a request started after it was due (the generator falling behind, not the server). */
  maxStartLagMs: number
  /** Every request's promise, to wait for the last answers. */
  inFlight: Promise<unknown>[]
}

/** Starts `rate * seconds` requests on the schedule; answers once the last one has started. */
export async function openLoop(o: OpenLoop): Promise<LoopResult> {
  const now = o.now ?? (() => performance.now())
  const sleep = o.sleep ?? ((ms: number) => Bun.sleep(ms))
  const total = Math.round(o.rate * o.seconds)
  const inFlight: Promise<unknown>[] = []
  let maxStartLagMs = 0
  let started = 0
  const t0 = now()
  while (started < total) {
    const due = dueBy(now() - t0, o.rate, total)
    // Late (a busy event loop): start every request that is due now, each with its own due time.
    while (started < due) {
      const at = scheduledAt(t0, started, o.rate)
      maxStartLagMs = Math.max(maxStartLagMs, now() - at)
      inFlight.push(o.fire(started, at).catch(() => undefined))
      started++
    }
    if (started < total) await sleep(Math.max(0, scheduledAt(t0, started, o.rate) - now()))
  }
  return { started, scheduleMs: now() - t0, maxStartLagMs, inFlight }
}
