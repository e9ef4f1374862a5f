/** What `take` did: counted the attempt (and how many are left), or refused it. */
export type Take = { taken: true; left: number } | { taken: false; retryAfter: number }

/**
 * Fixed-window counters per key, in memory: enough for one process (each service instance limits
 * what it sees). `take` checks and counts in one synchronous step, so parallel requests cannot all
 * pass the check before any of them is counted; `refund` gives back an attempt that turned out
 * not to count (a right password).
 */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>()
  private lastSweep = 0

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfter(key: string): number {
    const w = this.windows.get(key)
    const t = this.now()
    if (!w || w.resetAt <= t || w.count < this.max) return 0
    return Math.max(1, Math.ceil((w.resetAt - t) / 1000))
  }

  /** Counts one attempt for `key` if its window has room; refuses it (counting nothing) if not. */
  take(key: string): Take {
    const t = this.now()
    this.sweep(t)
    let w = this.windows.get(key)
    if (!w || w.resetAt <= t) {
      w = { count: 0, resetAt: t + this.windowMs }
      this.windows.set(key, w)
    }
    if (w.count >= this.max) return { taken: false, retryAfter: this.retryAfter(key) }
    w.count++
    return { taken: true, left: this.max - w.count }
  }

  /** Gives back one attempt taken for `key` in its current window. */
  refund(key: string): void {
    const w = this.windows.get(key)
    if (w && w.resetAt > this.now() && w.count > 0) w.count--
  }

  reset(key: string): void {
    this.windows.delete(key)
  }

  /** Forgets expired windows now and then, so the map does not grow with every key ever seen. */
  private sweep(t: number) {
    if (t - this.lastSweep < this.windowMs) return
    this.lastSweep = t
    for (const [k, w] of this.windows) if (w.resetAt <= t) this.windows.delete(k)
  }
}

/**
 * The client's address: the last `X-Forwarded-For` hop when a trusted proxy (the gateway) sits in
 * front, the socket's address otherwise.
 */
export function clientAddress(
  request: Request,
  server: { requestIP(r: Request): { address: string } | null } | null | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const hops = request.headers.get('x-forwarded-for')?.split(',')
    const last = hops?.at(-1)?.trim()
    if (last) return last
  }
  return server?.requestIP(request)?.address ?? 'unknown'
}
