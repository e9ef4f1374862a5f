import { perStore, type Store } from '../db/open.ts'
import { declaredKind } from './kinds.ts'
import { jobStatements } from './statements.ts'

export interface ScheduleOptions {
  /** Unique within the kind (an order id, say): scheduling the same key again is a no-op while it waits or runs. */
  key: string
  /** When it is due (a Date or ms since the epoch); now by default. */
  at?: Date | number
  /** Checked against the kind's schema; the transaction fails if it does not match. */
  data?: unknown
  /** The W3C traceparent the job runs under (the scheduling transaction's, by default). */
  traceparent?: string | undefined
}

// Longer keys are a mistake, not an identifier.
const MAX_KEY_LENGTH = 500

/** Runners to wake once a transaction that scheduled a job has committed. */
export const jobWakers = perStore(() => new Set<() => void>())

/**
 * Inserts job (kind, key) in the caller's transaction and has the runner woken once it commits.
 * Answers false, changing nothing, when that job is already scheduled or running; a done or dead
 * one is scheduled anew (attempts 0). Throws for an undeclared kind or data its schema refuses.
 */
export function scheduleJob(
  store: Store,
  afterCommit: (fn: () => void) => void,
  kind: string,
  opts: ScheduleOptions,
): boolean {
  const declared = declaredKind(store, kind)
  if (!declared) throw new TypeError(`unknown job kind "${kind}": declare it in the service's jobs`)
  if (typeof opts.key !== 'string' || opts.key.length === 0 || opts.key.length > MAX_KEY_LENGTH) {
    throw new TypeError(`a ${kind} job needs a key of 1 to ${MAX_KEY_LENGTH} characters`)
  }
  const now = Date.now()
  const at = opts.at === undefined ? now : opts.at instanceof Date ? opts.at.getTime() : opts.at
  if (!Number.isFinite(at)) throw new TypeError(`the time of a ${kind} job must be a valid date`)
  const data = declared.encode(opts.data)
  const traceparent = opts.traceparent ?? null
  const scheduled =
    jobStatements(store).schedule.run(kind, opts.key, at, data, traceparent, now, now).changes === 1
  if (scheduled) afterCommit(() => wakeRunners(store))
  return scheduled
}

/** Deletes job (kind, key) in the caller's transaction unless it has finished; answers whether it did. */
export const cancelJob = (store: Store, kind: string, key: string): boolean =>
  jobStatements(store).cancel.run(kind, key).changes === 1

function wakeRunners(store: Store): void {
  for (const wake of jobWakers(store)) wake()
}
