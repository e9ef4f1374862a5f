/**
 * How a polling loop is woken early: `sleep(ms)` resolves after `ms`, or as soon as `wake()` is
 * called. A wake while the loop is busy is kept, so the next `sleep` returns at once and nothing
 * committed meanwhile waits for the poll.
 */
export class Wakeup {
  private woken = false
  private resolveSleep: (() => void) | null = null

  readonly wake = (): void => {
    this.woken = true
    this.resolveSleep?.()
  }

  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      this.resolveSleep = done
      function done() {
        clearTimeout(timer)
        self.resolveSleep = null
        self.woken = false
        resolve()
      }
    })
  }
}
