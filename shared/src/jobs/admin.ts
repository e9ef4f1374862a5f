// What `bun run jobs` does to a service's database: list its jobs, put chosen ones back to run.
// It works beside the running service: SQLite's locking orders the writes, and the runner sees a
// retried job on its next look.
import Database from 'better-sqlite3'
import type { JobState } from './state.ts'
import type { JobRecord } from './statements.ts'

/** Opens an existing service database for the jobs CLI (never creates one). */
export function openJobsDatabase(file: string): Database.Database {
  const db = new Database(file, { fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  return db
}

const COLUMNS = `kind, key, state, run_at AS runAt, attempts, lease_until AS leaseUntil, last_error AS lastError,
  created_at AS createdAt, updated_at AS updatedAt`

/** The jobs in `db`, in `state` if given, in the order they are due. */
export function listJobs(db: Database.Database, state?: JobState): JobRecord[] {
  return state
    ? db
        .prepare<[string], JobRecord>(`SELECT ${COLUMNS} FROM mart_jobs WHERE state = ? ORDER BY run_at`)
        .all(state)
    : db.prepare<[], JobRecord>(`SELECT ${COLUMNS} FROM mart_jobs ORDER BY run_at`).all()
}

// Running jobs are their runner's, and a done one did its work: only these go back to run.
const RETRYABLE = "state IN ('dead', 'scheduled')"
const RETRY = `UPDATE mart_jobs SET state = 'scheduled', run_at = @now, attempts = 0, lease_until = NULL, updated_at = @now`

/**
 * Makes job (kind, key) due now with a fresh budget (attempts 0) if it is dead or scheduled.
 * Answers true, or the job's state that stopped it (null: no such job).
 */
export function retryJob(
  db: Database.Database,
  kind: string,
  key: string,
  now = Date.now(),
): true | JobState | null {
  const changed = db
    .prepare(`${RETRY} WHERE kind = @kind AND key = @key AND ${RETRYABLE}`)
    .run({ kind, key, now })
  if (changed.changes === 1) return true
  const row = db
    .prepare<[string, string], { state: JobState }>('SELECT state FROM mart_jobs WHERE kind = ? AND key = ?')
    .get(kind, key)
  return row?.state ?? null
}

/** Makes every dead job due now with a fresh budget; answers how many. */
export const retryDeadJobs = (db: Database.Database, now = Date.now()): number =>
  db.prepare(`${RETRY} WHERE state = 'dead'`).run({ now }).changes

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A job as the CLI prints it: one JSON line (its data is left out; it may be personal). */
export const describeJob = (service: string, j: JobRecord) => ({
  service,
  kind: j.kind,
  key: j.key,
  state: j.state,
  attempts: j.attempts,
  runAt: iso(j.runAt),
  leaseUntil: iso(j.leaseUntil),
  lastError: j.lastError,
  updatedAt: iso(j.updatedAt),
})
