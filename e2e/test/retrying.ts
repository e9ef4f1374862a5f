// A client that behaves as a real one does while a service restarts behind the gateway: a request
// that found nobody (the connection refused or dropped, Caddy's 502, a 503 or 504) is sent again,
// the same bytes and the same Idempotency-Key, after a short pause, until an answer comes or the
// patience runs out. It counts what it had to retry, for the suites' figures.
import type { Answer, CallOptions, System } from './system.ts'

/** Answers that mean "nobody could take it now": worth the same request again. */
const TRANSIENT = new Set([502, 503, 504])

export interface Retrying {
  /** As `sys.call`, sent again while the answer is transient: the final answer. */
  call(method: string, path: string, opts?: CallOptions): Promise<Answer>
  /** Requests sent again so far, by what sent them again (`502`, `503`, `connection`...). */
  retries(): Record<string, number>
}

export function retryingClient(sys: System, patienceMs = 120_000, pauseMs = 200): Retrying {
  const counts: Record<string, number> = {}
  const seen = (why: string) => {
    counts[why] = (counts[why] ?? 0) + 1
  }
  return {
    async call(method, path, opts = {}) {
      const deadline = Date.now() + patienceMs
      for (;;) {
        let why: string
        try {
          const answer = await sys.call(method, path, opts)
          if (!TRANSIENT.has(answer.status)) return answer
          if (Date.now() > deadline) return answer
          why = String(answer.status)
        } catch (err) {
          if (Date.now() > deadline) throw err
          why = 'connection'
        }
        seen(why)
        await Bun.sleep(pauseMs)
      }
    },
    retries: () => ({ ...counts }),
  }
}
