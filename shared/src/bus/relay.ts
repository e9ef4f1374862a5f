import type { Logger } from 'pino'
import { inboxStatements } from '../db/inbox.ts'
import type { Store } from '../db/open.ts'
import { type OutboxRow, outboxStatements } from '../db/outbox.ts'
import { errorFields } from '../log.ts'
import { housekeeping } from '../periodic.ts'
import { backoffDelay, sleep } from '../retry.ts'
import { Wakeup } from '../wakeup.ts'
import type { Bus, BusMessage } from './types.ts'

export interface RelayOptions {
  /** Rows published per broker round trip. */
  batchSize?: number
  /** Fallback poll when no commit wakes the relay (e.g. rows left by a crashed process). */
  pollMs?: number
  /** How long sent outbox rows are kept. */
  outboxRetentionMs?: number
  /** How long inbox rows are kept; longer than any redelivery can come late. */
  inboxRetentionMs?: number
  /** How often old rows are purged. */
  purgeEveryMs?: number
}

const DAY = 86_400_000

/**
 * Publishes committed outbox rows in commit order and marks them sent. Woken right after a commit
 * that staged events; polls as a fallback. A publish that fails is retried with backoff from the
 * oldest unsent row, so order holds and nothing committed is lost. A crash between publish and
 * mark re-publishes on restart: consumers' inboxes absorb the repeat.
 */
export class OutboxRelay {
  private readonly batchSize: number
  private readonly pollMs: number
  private running = false
  private loop: Promise<void> | null = null
  private readonly wakeup = new Wakeup()
  private readonly wake = this.wakeup.wake
  private stopPurging: (() => void) | null = null

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly opts: RelayOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 500
    this.pollMs = opts.pollMs ?? 1000
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.store.onStaged.add(this.wake)
    this.loop = this.run()
    this.stopPurging = housekeeping(
      this.log,
      'purge old outbox and inbox rows',
      this.opts.purgeEveryMs ?? 3_600_000,
      () => this.purge(),
    )
  }

  /** Stops after publishing what is pending now (bounded by `timeoutMs`). */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return
    await Promise.race([this.drained(), sleep(timeoutMs)])
    this.running = false
    this.store.onStaged.delete(this.wake)
    this.stopPurging?.()
    this.wake()
    await this.loop
  }

  /** Unsent rows. */
  pending(): number {
    return outboxStatements(this.store).countPending.get()?.n ?? 0
  }

  /** When the oldest unsent row was staged (epoch ms), or null when none is left. */
  oldestPendingAt(): number | null {
    return outboxStatements(this.store).oldestPending.get()?.createdAt ?? null
  }

  /** Resolves when no unsent row is left. */
  async drained(): Promise<void> {
    while (this.running && this.pending() > 0) {
      this.wake()
      await sleep(5)
    }
  }

  /** Deletes sent outbox rows and inbox rows past their retention. Returns what it removed. */
  purge(now = Date.now()): { outbox: number; inbox: number } {
    const removed = {
      outbox: outboxStatements(this.store).purge.run(now - (this.opts.outboxRetentionMs ?? 7 * DAY)).changes,
      inbox: inboxStatements(this.store).purge.run(now - (this.opts.inboxRetentionMs ?? 7 * DAY)).changes,
    }
    if (removed.outbox || removed.inbox) this.log.info(removed, 'purged old outbox and inbox rows')
    return removed
  }

  private async run(): Promise<void> {
    const st = outboxStatements(this.store)
    let failures = 0
    while (this.running) {
      const rows = st.pending.all(this.batchSize)
      if (rows.length === 0) {
        await this.wakeup.sleep(this.pollMs)
        continue
      }
      try {
        await this.bus.publish(rows.map(toMessage))
        st.markSent.run(Date.now(), (rows.at(-1) as OutboxRow).seq)
        failures = 0
        // A short batch took every row committed before it was read; a row committed since woke
        // the relay (the wake is kept while it works), so the sleep returns at once for it. Without
        // this, every batch cost one more query that found nothing.
        if (rows.length < this.batchSize) await this.wakeup.sleep(this.pollMs)
      } catch (err) {
        failures++
        const delay = backoffDelay(failures, { initialMs: 100, maxMs: 5000 })
        this.log.warn(
          { failures, pending: rows.length, retryInMs: delay, ...errorFields(err) },
          'outbox publish failed',
        )
        await sleep(delay)
      }
    }
  }
}

const toMessage = (row: OutboxRow): BusMessage => ({
  topic: row.topic,
  key: row.key,
  value: row.value,
  headers: JSON.parse(row.headers),
})
