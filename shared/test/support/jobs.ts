// A service database with job kinds, and ways to look at its jobs, for the job tests.
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import {
  defineJob,
  type JobKinds,
  type JobRecord,
  JobRunner,
  type JobRunnerOptions,
  openStore,
  type Store,
} from '../../src/index.ts'
import { testLogger, waitFor } from '../../src/testing.ts'

/** A clock the test moves: what is due follows it, not the wall clock. */
export function manualClock(start = Date.now()) {
  let now = start
  return {
    now: () => now,
    advance(ms: number) {
      now += ms
    },
  }
}

/** A service database with an `effects` table that jobs write to, in the order they write. */
export function jobsStore(dir: string, name = 'jobs'): Store {
  const store = openStore({ file: join(dir, `${name}.db`), source: 'order' })
  store.sqlite.exec(
    'CREATE TABLE IF NOT EXISTS effects (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL)',
  )
  return store
}

/** Writes an effect row in `store`'s current transaction. */
export const writeEffect = (store: Store, kind: string, key: string) =>
  store.sqlite.prepare('INSERT INTO effects (kind, key) VALUES (?, ?)').run(kind, key)

/** The effects written so far, oldest first, as `kind:key`. */
export const effects = (store: Store): string[] =>
  (
    store.sqlite.prepare('SELECT kind, key FROM effects ORDER BY seq').all() as {
      kind: string
      key: string
    }[]
  ).map((r) => `${r.kind}:${r.key}`)

/** Job (kind, key) as stored, or null. */
export const jobOf = (store: Store, kind: string, key: string): JobRecord | null =>
  (store.sqlite
    .prepare(
      `SELECT kind, key, state, run_at AS runAt, attempts, lease_until AS leaseUntil, last_error AS lastError,
         created_at AS createdAt, updated_at AS updatedAt FROM mart_jobs WHERE kind = ? AND key = ?`,
    )
    .get(kind, key) as JobRecord | undefined) ?? null

/** Waits until job (kind, key) is in `state`; answers it. */
export const jobIn = (store: Store, kind: string, key: string, state: JobRecord['state']) =>
  waitFor(() => {
    const job = jobOf(store, kind, key)
    return job?.state === state ? job : null
  }, `${kind} ${key} to be ${state}`)

/** A started runner over `kinds`, polling often so a moved clock is noticed at once. */
export function startRunner(
  store: Store,
  kinds: JobKinds,
  opts: JobRunnerOptions & { log?: Logger } = {},
): JobRunner {
  const runner = new JobRunner(store, kinds, opts.log ?? testLogger('jobs'), { pollMs: 10, ...opts })
  runner.start()
  return runner
}

/**
 * The kind the crash test runs: `perform` appends the key to an outside, append-only file (what
 * an SMTP send or a Stripe charge is to the service) and `record` writes an effect row. With
 * `dieAfterPerform`, the process kills itself with SIGKILL once `perform` is done, before `record`.
 */
export function appendThenRecord(store: Store, outsideFile: string, dieAfterPerform = false): JobKinds {
  return {
    'mail.send': defineJob({
      async perform(job) {
        appendFileSync(outsideFile, `${job.key}\n`)
        if (dieAfterPerform) process.kill(process.pid, 'SIGKILL')
        return { messageId: `<${job.key}@mart.test>` }
      },
      record(job) {
        writeEffect(store, job.kind, job.key)
      },
    }),
  }
}

/** The lines of the outside file, one per perform. */
export const outsideLines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
