/**
 * Runs `task` every `everyMs` until the returned function is called. Housekeeping (purges, prunes)
 * must never take the process down: a throw goes to `failed` and the next round tries again. The
 * timer does not keep the process alive.
 */
export function every(everyMs: number, task: () => void, failed: (err: unknown) => void): () => void {
  const timer = setInterval(() => {
    try {
      task()
    } catch (err) {
      failed(err)
    }
  }, everyMs)
  timer.unref?.()
  return () => clearInterval(timer)
}
