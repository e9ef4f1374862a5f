export interface Backoff {
  /** First delay in ms. */
  initialMs: number
  /** Longest delay in ms. */
  maxMs: number
}

/** Exponential backoff with full jitter: attempt 1 waits up to initialMs, then doubling to maxMs. */
export function backoffDelay(attempt: number, b: Backoff): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
