import type { Logger } from 'pino'
import { errorMessage } from './log.ts'

/**
 * Housekeeping (purges, prunes): runs `task` now and then every `everyMs` until the returned
 * function is called. It must never take the process down: a throw is logged as "could not
 * <what>" and the next round tries again (busy past its timeout, say). The timer does not keep the
 * process alive.
 */
export function housekeeping(log: Logger, what: string, everyMs: number, task: () => void): () => void {
  const round = () => {
    try {
      task()
    } catch (err) {
      log.warn({ error: errorMessage(err) }, `could not ${what}`)
    }
  }
  round()
  const timer = setInterval(round, everyMs)
  timer.unref?.()
  return () => clearInterval(timer)
}
