import type { Logger } from 'pino'
import { PermanentError } from '../bus/consumer.ts'
import type { Store } from '../db/open.ts'
import { type Tx, type TxPartOutcome, tx, txEach } from '../db/outbox.ts'
import { errorMessage } from '../log.ts'
import { housekeeping } from '../periodic.ts'
import { backoffDelay, sleep } from '../retry.ts'
import { childTraceparent, inTrace, traceIdOf } from '../trace.ts'
import { Wakeup } from '../wakeup.ts'
import {
  type DeclaredKind,
  declaredKind,
  declareJobs,
  InvalidJobError,
  type Job,
  type JobKinds,
} from './kinds.ts'
import { jobWakers } from './schedule.ts'
import { jobStatements, type LeasedJob, leaseDue } from './statements.ts'

export interface JobRunnerOptions {
  /** Jobs running at once (JOBS_CONCURRENCY). */
  concurrency?: number
  /** How long a picked job is its runner's (JOBS_LEASE_SECONDS); renewed while it runs. */
  leaseMs?: number
  /** How long done jobs are kept (JOBS_RETENTION_HOURS). */
  retentionMs?: number
  /** Longest wait before looking for due jobs again when no commit wakes the runner. */
  pollMs?: number
  /** How often done jobs past their retention are purged. */
  purgeEveryMs?: number
  /** The clock that says what is due (tests move it rather than wait). */
  now?: () => number
}

/** How much of a failure's message is kept in `last_error` and the log. */
const MAX_ERROR_LENGTH = 1000

/** The job's outcome could not be written under its lease: it was cancelled, retried or leased again. */
class LeaseLost extends Error {}

interface Running {
  job: LeasedJob
  /** Until when its lease holds, as last written. */
  leaseUntil: number
  finished: Promise<void>
  /** Set when stop() stopped waiting for it: the store may be closed, so its outcome is not written. */
  abandoned: boolean
}

/** A performed job's outcome, waiting to be written with the others of its turn. */
interface Finished {
  run: Running
  write: (t: Tx) => void
  settle: (error?: { error: unknown }) => void
}

const idOf = (job: { kind: string; key: string }) => `${job.kind}\u0000${job.key}`

/** What every log line about one run of a job says: which job, which attempt, and its trace. */
const aboutJob = (job: LeasedJob) => ({
  kind: job.kind,
  key: job.key,
  attempt: job.attempts,
  traceId: traceIdOf(job.traceparent),
})

/**
 * Runs a service's due jobs (`mart_jobs`): woken when a transaction that scheduled one commits,
 * polling as a fallback and sleeping until the next one is due. It leases each job it picks (in
 * `run_at` order, at most `concurrency` at once) and renews the lease while the job runs, so a
 * job whose process died is due again once its lease expires. A failure is retried with backoff
 * up to the kind's budget, then the job is dead with the error's message; a PermanentError or
 * invalid data is dead at once.
 */
export class JobRunner {
  private readonly concurrency: number
  private readonly leaseMs: number
  private readonly pollMs: number
  private readonly now: () => number
  private readonly running = new Map<string, Running>()
  private picking = false
  private loop: Promise<void> | null = null
  private readonly wakeup = new Wakeup()
  private readonly wake = this.wakeup.wake
  private stopPurging: (() => void) | null = null
  private finished: Finished[] = []

  constructor(
    private readonly store: Store,
    kinds: JobKinds,
    private readonly log: Logger,
    private readonly opts: JobRunnerOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 4
    this.leaseMs = opts.leaseMs ?? 30_000
    this.pollMs = opts.pollMs ?? 1000
    this.now = opts.now ?? Date.now
    declareJobs(store, kinds)
  }

  start(): void {
    if (this.picking) return
    this.picking = true
    jobWakers(this.store).add(this.wake)
    this.loop = this.pick()
    this.stopPurging = housekeeping(this.log, 'purge done jobs', this.opts.purgeEveryMs ?? 3_600_000, () =>
      this.purge(),
    )
  }

  /**
   * Stops picking jobs and waits for the running ones, up to `timeoutMs`. A job still running
   * then is left as it is: after a restart it runs again once its lease has expired.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.picking) return
    this.picking = false
    jobWakers(this.store).delete(this.wake)
    this.stopPurging?.()
    this.wake()
    await this.loop
    const finished = [...this.running.values()].map((r) => r.finished)
    if (finished.length > 0) {
      const waited = new AbortController()
      await Promise.race([Promise.all(finished), sleep(timeoutMs, waited.signal)])
      waited.abort()
    }
    const left = [...this.running.values()]
    if (left.length === 0) return
    // The store may close now: whatever these jobs end with is not written.
    for (const r of left) r.abandoned = true
    this.log.warn(
      { jobs: left.map(({ job }) => ({ kind: job.kind, key: job.key })) },
      'jobs still running at shutdown; they run again once their lease expires',
    )
  }

  /** Due jobs (waiting for a free slot, or whose runner died) and dead ones: the service's backlog. */
  figures(): { due: number; dead: number } {
    return jobStatements(this.store).figures.get({ now: this.now() }) ?? { due: 0, dead: 0 }
  }

  /** Deletes done jobs past their retention. Answers how many went. */
  purge(now = this.now()): number {
    const removed = jobStatements(this.store).purge.run(
      now - (this.opts.retentionMs ?? 7 * 86_400_000),
    ).changes
    if (removed > 0) this.log.info({ jobs: removed }, 'purged done jobs')
    return removed
  }

  private async pick(): Promise<void> {
    const st = jobStatements(this.store)
    let failures = 0
    while (this.picking) {
      let waitMs: number
      try {
        const now = this.now()
        this.renewLeases(now)
        const free = this.concurrency - this.running.size
        const leased = free > 0 ? leaseDue(this.store, now, now + this.leaseMs, free) : []
        for (const job of leased.sort((a, b) => a.runAt - b.runAt)) this.launch(job, now + this.leaseMs)
        failures = 0
        waitMs = this.untilNextLook(now, st.nextDue.get()?.at ?? null)
      } catch (err) {
        // The database is busy past its timeout (a long write from the CLI), say: look again later.
        failures++
        waitMs = backoffDelay(failures, { initialMs: 100, maxMs: 5000 })
        this.log.warn({ failures, retryInMs: waitMs, error: errorMessage(err) }, 'could not pick jobs')
      }
      await this.wakeup.sleep(waitMs)
    }
  }

  /** How long to sleep: until the next job is due, never past the poll interval or a quarter of a lease. */
  private untilNextLook(now: number, nextDue: number | null): number {
    let ms = this.pollMs
    // A lease is renewed once half of it is gone: looking every quarter renews it with a quarter left.
    if (this.running.size > 0) ms = Math.min(ms, this.leaseMs / 4)
    // With every slot taken, a finishing job wakes the loop; otherwise the next due job does.
    if (this.running.size < this.concurrency && nextDue !== null)
      ms = Math.min(ms, Math.max(1, nextDue - now))
    return ms
  }

  /**
   * Keeps the leases of the jobs this runner is running from expiring: each once half of it is
   * gone. Not on every look: the loop looks after every job that finishes, and each renewal is a
   * commit of its own (most jobs, an email say, end long before their lease is half gone).
   */
  private renewLeases(now: number): void {
    const st = jobStatements(this.store)
    for (const run of this.running.values()) {
      if (run.leaseUntil - now > this.leaseMs / 2) continue
      const { job } = run
      const leaseUntil = now + this.leaseMs
      st.renew.run({ kind: job.kind, key: job.key, attempts: job.attempts, leaseUntil })
      run.leaseUntil = leaseUntil
    }
  }

  private launch(job: LeasedJob, leaseUntil: number): void {
    const id = idOf(job)
    // Only if its lease ran out while it was still running here (the process stalled): let that run end.
    if (this.running.has(id)) return
    const run: Running = { job, leaseUntil, finished: Promise.resolve(), abandoned: false }
    this.running.set(id, run)
    run.finished = inTrace(job.traceparent, () => this.attempt(run))
      .catch((err) => {
        // Writing the outcome failed (the database was busy past its timeout): the lease brings it back.
        this.log.error(
          { ...aboutJob(job), error: errorMessage(err, MAX_ERROR_LENGTH) },
          'could not record a job outcome; it runs again once its lease expires',
        )
      })
      .finally(() => {
        this.running.delete(id)
        this.wake()
      })
  }

  private async attempt(run: Running): Promise<void> {
    const leased = run.job
    const about = aboutJob(leased)
    // What the job stages continues the trace of the transaction that scheduled it.
    const context = { traceparent: childTraceparent(leased.traceparent ?? undefined) }
    const declared = declaredKind(this.store, leased.kind)
    if (!declared) return this.bury(leased, `this service has no job kind "${leased.kind}"`)
    let job: Job
    try {
      job = {
        kind: leased.kind,
        key: leased.key,
        data: declared.decode(leased.data),
        attempt: leased.attempts,
      }
    } catch (err) {
      return this.bury(leased, errorMessage(err, MAX_ERROR_LENGTH))
    }
    try {
      const { kind } = declared
      if ('run' in kind) {
        tx(
          this.store,
          (t) => {
            kind.run(job, t)
            this.markDone(leased)
          },
          context,
        )
      } else {
        const result = await kind.perform(job)
        if (run.abandoned) return
        await this.record(run, (t) => kind.record(job, result, t))
      }
      if (this.log.isLevelEnabled('debug')) this.log.debug(about, 'job done')
    } catch (err) {
      if (err instanceof LeaseLost) {
        this.log.warn(about, 'job cancelled or retried while it ran; its outcome is not recorded')
      } else if (!run.abandoned) {
        this.fail(leased, declared, err)
      }
    }
  }

  /**
   * Writes a performed job's outcome and its done mark, with those of every job that finished in
   * the same turn of the event loop, in one transaction (emails sent together commit once): each
   * in a savepoint of its own, so one that throws, or whose lease was lost, is rolled back alone
   * and fails as it would have by itself.
   */
  private record(run: Running, write: (t: Tx) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.finished.push({ run, write, settle: (e) => (e ? reject(e.error) : resolve()) })
      if (this.finished.length === 1) setImmediate(() => this.writeFinished())
    })
  }

  private writeFinished(): void {
    // Left by stop(): the store may be closed, and their outcome is not written.
    const batch = this.finished.filter((f) => !f.run.abandoned)
    this.finished = []
    if (batch.length === 0) return
    let outcomes: TxPartOutcome<void>[]
    try {
      outcomes = txEach(
        this.store,
        batch.map(({ run, write }) => ({
          context: { traceparent: childTraceparent(run.job.traceparent ?? undefined) },
          traceparent: run.job.traceparent,
          run: (t: Tx) => {
            write(t)
            this.markDone(run.job)
          },
        })),
        { isolate: true },
      )
    } catch (error) {
      for (const f of batch) f.settle({ error })
      return
    }
    batch.forEach((f, i) => {
      const outcome = outcomes[i]
      f.settle(outcome && 'error' in outcome ? outcome : undefined)
    })
  }

  private markDone(job: LeasedJob): void {
    const outcome = { kind: job.kind, key: job.key, attempts: job.attempts, now: this.now() }
    if (jobStatements(this.store).done.run(outcome).changes !== 1) throw new LeaseLost()
  }

  private fail(job: LeasedJob, declared: DeclaredKind, err: unknown): void {
    const error = errorMessage(err, MAX_ERROR_LENGTH)
    const permanent = err instanceof PermanentError || err instanceof InvalidJobError
    if (permanent || job.attempts >= declared.retry.attempts) {
      this.bury(job, error)
      return
    }
    const now = this.now()
    const retryInMs = backoffDelay(job.attempts, declared.retry.backoff)
    const retried = jobStatements(this.store).retryLater.run({
      kind: job.kind,
      key: job.key,
      attempts: job.attempts,
      now,
      runAt: now + retryInMs,
      error,
    })
    if (retried.changes === 1) {
      this.log.warn({ ...aboutJob(job), retryInMs, error }, 'job failed; retrying')
    }
  }

  private bury(job: LeasedJob, error: string): void {
    const outcome = { kind: job.kind, key: job.key, attempts: job.attempts, now: this.now(), error }
    if (jobStatements(this.store).bury.run(outcome).changes === 1) {
      this.log.error({ ...aboutJob(job), error }, 'job dead')
    }
  }
}
