import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import {
  catalog,
  createEvent,
  type Event,
  type EventContext,
  type EventData,
  type EventType,
  encodeEvent,
  eventHeaders,
} from '../events/index.ts'
import { cancelJob, type ScheduleOptions, scheduleJob } from '../jobs/schedule.ts'
import { inTrace } from '../trace.ts'
import { perStore, type Schema, type Store } from './open.ts'

export interface PublishOptions extends Partial<EventContext> {
  /** The aggregate the event is about; the message key, so its events stay in order. */
  subject: string
}

/** What a transaction callback gets: the database, and ways to stage events and jobs in the same commit. */
export interface Tx<S extends Schema = Schema> {
  db: BetterSQLite3Database<S>
  /** Validates and stages an event; it is published only if the transaction commits. */
  publish<T extends EventType>(type: T, data: EventData<T>, opts: PublishOptions): Event<T>
  /** Runs `fn` once the transaction has committed (never if it rolls back): for in-memory state that mirrors rows. */
  afterCommit(fn: () => void): void
  /**
   * Schedules a durable job of one of the service's kinds; it exists only if this transaction
   * commits. False (and nothing changed) when job (kind, key) is already scheduled or running; a
   * done or dead one is scheduled anew.
   */
  schedule(kind: string, job: ScheduleOptions): boolean
  /** Removes job (kind, key) unless it has finished: it never runs, or its outcome is not recorded. */
  cancelJob(kind: string, key: string): boolean
}

export interface OutboxRow {
  seq: number
  topic: string
  key: string
  value: string
  headers: string
}

// Prepared once per connection: staging an event is one insert on the hot path.
export const outboxStatements = perStore((store: Store) => {
  const { sqlite } = store
  return {
    insert: sqlite.prepare(
      'INSERT INTO mart_outbox (event_id, topic, key, value, headers, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    pending: sqlite.prepare<[number], OutboxRow>(
      'SELECT seq, topic, key, value, headers FROM mart_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?',
    ),
    markSent: sqlite.prepare('UPDATE mart_outbox SET sent_at = ? WHERE sent_at IS NULL AND seq <= ?'),
    purge: sqlite.prepare('DELETE FROM mart_outbox WHERE sent_at IS NOT NULL AND sent_at < ?'),
    countPending: sqlite.prepare<[], { n: number }>(
      'SELECT count(*) AS n FROM mart_outbox WHERE sent_at IS NULL',
    ),
    // The lowest unsent seq is the oldest row: the pending index answers it without a scan.
    oldestPending: sqlite.prepare<[], { createdAt: number }>(
      'SELECT created_at AS createdAt FROM mart_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1',
    ),
  }
})

// better-sqlite3 builds a transaction function (and its four variants) on every `transaction()`
// call: made once per connection, it is a call like any other.
const immediateOf = perStore(
  (store: Store) =>
    store.sqlite.transaction(<R>(run: () => R): R => run()).immediate as <R>(run: () => R) => R,
)
const savepointOf = perStore((store: Store) => store.sqlite.transaction(<R>(run: () => R): R => run()))

/**
 * Runs `fn` inside the caller's transaction as a savepoint: if it throws, what it wrote is rolled
 * back and the rest of the transaction goes on (the caller decides what the error means).
 */
const inSavepoint = <R>(store: Store, fn: () => R): R => savepointOf(store)(fn) as R

/**
 * Runs `fn` in one synchronous, immediate SQLite transaction: its writes and the events it stages
 * commit together or not at all. `fn` must not await (better-sqlite3 transactions are synchronous).
 * `context` ties staged events to the request or event that caused them.
 */
export function tx<S extends Schema, R>(
  store: Store<S>,
  fn: (t: Tx<S>) => R,
  context?: Partial<EventContext>,
): R {
  const st = outboxStatements(store as Store)
  let staged = 0
  const committed: (() => void)[] = []
  const t: Tx<S> = {
    db: store.db,
    afterCommit: (fn) => void committed.push(fn),
    schedule: (kind, job) =>
      scheduleJob(store as Store, t.afterCommit, kind, {
        ...job,
        traceparent: job.traceparent ?? context?.traceparent,
      }),
    cancelJob: (kind, key) => cancelJob(store as Store, kind, key),
    publish(type, data, opts) {
      const event = createEvent({
        type,
        data,
        subject: opts.subject,
        source: store.source,
        correlationId: opts.correlationId ?? context?.correlationId,
        causationId: opts.causationId ?? context?.causationId,
      })
      const headers = eventHeaders(type, opts.traceparent ?? context?.traceparent)
      st.insert.run(
        event.id,
        catalog[type].topic,
        event.subject,
        encodeEvent(event),
        JSON.stringify(headers),
        Date.now(),
      )
      staged++
      return event
    },
  }
  const result = immediateOf(store as Store)(() => {
    const r = fn(t)
    if (r instanceof Promise) throw new TypeError('tx callback must be synchronous: do not await inside it')
    return r
  })
  for (const fn of committed) fn()
  if (staged > 0) for (const wake of store.onStaged) wake()
  return result
}

/** One unit of work of `txEach`: what it stages carries `context`, and it runs in `traceparent`'s trace. */
export interface TxPart<S extends Schema, R> {
  context: Partial<EventContext>
  traceparent: string | null | undefined
  run: (t: Tx<S>) => R
}

/** What a part of `txEach` answered, or what it threw (its writes rolled back). */
export type TxPartOutcome<R> = { value: R } | { error: unknown }

// Every key of a context, so that one part's never stays behind for the next.
const NO_CONTEXT: Partial<EventContext> = {
  correlationId: undefined,
  causationId: undefined,
  traceparent: undefined,
}

/**
 * Several units of work in one transaction, one commit, each as `tx` would run it alone: the events
 * it stages carry its own context, and its after-commit callbacks run in its trace, only if it was
 * kept. With `isolate` each runs in a savepoint: one that throws is rolled back alone and answered
 * its error, the others commit. Without, the first that throws rolls all of it back, thrown.
 */
export function txEach<S extends Schema, R>(
  store: Store<S>,
  parts: readonly TxPart<S, R>[],
  opts: { isolate: boolean },
): TxPartOutcome<R>[] {
  // Read by the transaction when an event is staged: set to each part's before it runs.
  const context: Partial<EventContext> = {}
  return tx(
    store,
    (t) =>
      parts.map((part): TxPartOutcome<R> => {
        Object.assign(context, NO_CONTEXT, part.context)
        const later: (() => void)[] = []
        const own: Tx<S> = { ...t, afterCommit: (fn) => void later.push(() => inTrace(part.traceparent, fn)) }
        const run = () => inTrace(part.traceparent, () => part.run(own))
        try {
          const value = opts.isolate ? inSavepoint(store as Store, run) : run()
          for (const fn of later) t.afterCommit(fn)
          return { value }
        } catch (error) {
          if (!opts.isolate) throw error
          return { error }
        }
      }),
    context,
  )
}
