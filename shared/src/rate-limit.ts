/**
 * Fixed-window counters per key, in memory: enough for one process (each service instance limits
 * what it sees). `hit` counts an attempt; `check` says whether another would be refused.
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

  hit(key: string): void {
    const t = this.now()
    this.sweep(t)
    const w = this.windows.get(key)
    if (!w || w.resetAt <= t) this.windows.set(key, { count: 1, resetAt: t + this.windowMs })
    else w.count++
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
