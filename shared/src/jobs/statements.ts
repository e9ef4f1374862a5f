import { perStore, type Store } from '../db/open.ts'
import type { JobState } from './state.ts'

/** One row of `mart_jobs`, times in ms since the epoch. */
export interface JobRecord {
  kind: string
  key: string
  state: JobState
  runAt: number
  attempts: number
  leaseUntil: number | null
  lastError: string | null
  createdAt: number
  updatedAt: number
}

/** A job its runner has just leased. `attempts` is the lease's token: its outcome is written only under it. */
export interface LeasedJob {
  kind: string
  key: string
  data: string | null
  attempts: number
  runAt: number
  /** The trace of the transaction that scheduled it, if it had one. */
  traceparent: string | null
}

/** Where one job's outcome is written: the job as leased, and when. */
interface Outcome {
  kind: string
  key: string
  attempts: number
  now: number
}

// Every write about a leased job holds only while the lease is still this one: a job cancelled,
// retried from the CLI or leased again meanwhile is left alone (the write changes no row).
const LEASED = "kind = @kind AND key = @key AND state = 'running' AND attempts = @attempts"
// Due: scheduled and its time has come, or running under a lease that expired (its runner died).
const DUE = "(state = 'scheduled' AND run_at <= @now) OR (state = 'running' AND lease_until <= @now)"

/** Prepared once per store: the runner's and `t.schedule`'s statements on `mart_jobs`. */
export const jobStatements = perStore((store: Store) => {
  const { sqlite } = store
  // By rowid, and only while it is still due: another connection (the jobs CLI) may have moved it
  // since it was read. One UPDATE ... WHERE rowid IN (the due query) cost 5-10 times as much.
  const lease = sqlite.prepare<[{ rowid: number; now: number; leaseUntil: number }], LeasedJob>(
    `UPDATE mart_jobs SET state = 'running', attempts = attempts + 1, lease_until = @leaseUntil, updated_at = @now
     WHERE rowid = @rowid AND (${DUE})
     RETURNING kind, key, data, attempts, run_at AS runAt, traceparent`,
  )
  return {
    // A job that exists stays as it is while scheduled or running; done or dead, it starts afresh.
    schedule: sqlite.prepare<[string, string, number, string | null, string | null, number, number]>(
      `INSERT INTO mart_jobs (kind, key, state, run_at, attempts, data, traceparent, created_at, updated_at)
       VALUES (?, ?, 'scheduled', ?, 0, ?, ?, ?, ?)
       ON CONFLICT (kind, key) DO UPDATE SET
         state = 'scheduled', run_at = excluded.run_at, attempts = 0, lease_until = NULL,
         data = excluded.data, traceparent = excluded.traceparent, last_error = NULL, created_at = excluded.created_at, updated_at = excluded.updated_at
       WHERE state IN ('done', 'dead')`,
    ),
    cancel: sqlite.prepare<[string, string]>(
      "DELETE FROM mart_jobs WHERE kind = ? AND key = ? AND state IN ('scheduled', 'running')",
    ),
    /**
     * The due jobs, first due first: scheduled and its time has come, or running under a lease
     * that expired (its runner died). A read, so that a runner woken with nothing due (a commit
     * that scheduled a job for later) takes no write lock.
     */
    due: sqlite.prepare<[{ now: number; limit: number }], { rowid: number }>(
      `SELECT rowid FROM mart_jobs WHERE ${DUE} ORDER BY run_at, rowid LIMIT @limit`,
    ),
    /** Leases the jobs of `due` that are still due, in one transaction. */
    lease: sqlite.transaction((due: { rowid: number }[], now: number, leaseUntil: number) =>
      due.flatMap(({ rowid }) => lease.get({ rowid, now, leaseUntil }) ?? []),
    ),
    renew: sqlite.prepare<[Omit<Outcome, 'now'> & { leaseUntil: number }]>(
      `UPDATE mart_jobs SET lease_until = @leaseUntil WHERE ${LEASED}`,
    ),
    done: sqlite.prepare<[Outcome]>(
      `UPDATE mart_jobs SET state = 'done', lease_until = NULL, updated_at = @now WHERE ${LEASED}`,
    ),
    retryLater: sqlite.prepare<[Outcome & { runAt: number; error: string }]>(
      `UPDATE mart_jobs SET state = 'scheduled', run_at = @runAt, lease_until = NULL, last_error = @error,
         updated_at = @now WHERE ${LEASED}`,
    ),
    bury: sqlite.prepare<[Outcome & { error: string }]>(
      `UPDATE mart_jobs SET state = 'dead', lease_until = NULL, last_error = @error, updated_at = @now
       WHERE ${LEASED}`,
    ),
    /** When the next job falls due (a scheduled one's time, or a lease's end), if any. */
    nextDue: sqlite.prepare<[], { at: number | null }>(
      `SELECT min(at) AS at FROM (
         SELECT min(run_at) AS at FROM mart_jobs WHERE state = 'scheduled'
         UNION ALL SELECT min(lease_until) FROM mart_jobs WHERE state = 'running')`,
    ),
    figures: sqlite.prepare<[{ now: number }], { due: number; dead: number }>(
      `SELECT
         (SELECT count(*) FROM mart_jobs WHERE state = 'scheduled' AND run_at <= @now)
           + (SELECT count(*) FROM mart_jobs WHERE state = 'running' AND lease_until <= @now) AS due,
         (SELECT count(*) FROM mart_jobs WHERE state = 'dead') AS dead`,
    ),
    purge: sqlite.prepare<[number]>("DELETE FROM mart_jobs WHERE state = 'done' AND updated_at < ?"),
  }
})

/** Leases up to `limit` due jobs, first due first; with nothing due, only reads. */
export function leaseDue(store: Store, now: number, leaseUntil: number, limit: number): LeasedJob[] {
  const st = jobStatements(store)
  const due = st.due.all({ now, limit })
  return due.length === 0 ? [] : st.lease.immediate(due, now, leaseUntil)
}
