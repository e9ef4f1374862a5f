import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { RetryPolicy } from '../bus/consumer.ts'
import { perStore, type Schema, type Store } from '../db/open.ts'
import type { Tx } from '../db/outbox.ts'

/** One run of a job, as its kind's functions see it. */
export interface Job<D = unknown> {
  kind: string
  /** Unique within the kind: what makes scheduling idempotent, and the idempotency key of `perform`. */
  key: string
  data: D
  /** 1 on the first run; the job runs again with the next after a failure or a crash. */
  attempt: number
}

type DataOf<D> = D extends TSchema ? Static<D> : undefined

interface KindSettings<D extends TSchema | undefined> {
  /** The job's data; checked when the job is scheduled and again before it runs. None: no data. */
  data?: D
  /** Runs before the job is dead, and the backoff between them (default: `defaultJobRetry`). */
  retry?: RetryPolicy
}

/** Work done in one transaction (expire an order): its writes and the job's done mark commit together. */
export interface RunJobKind<S extends Schema, D extends TSchema | undefined> extends KindSettings<D> {
  /** Synchronous, like a handler: must not await. Throw to fail the run (PermanentError: dead at once). */
  run(job: Job<DataOf<D>>, t: Tx<S>): void
}

/**
 * Work outside any transaction (a Stripe call, an SMTP send), then its outcome written in one.
 * A process may die after `perform` and before `record` commits: the job then runs again, so
 * `perform` must be idempotent (pass `job.key` as the provider's idempotency key, a fixed Message-ID).
 */
export interface PerformJobKind<S extends Schema, D extends TSchema | undefined, R> extends KindSettings<D> {
  perform(job: Job<DataOf<D>>): Promise<R>
  /** Writes the outcome; the job is marked done in the same transaction. Synchronous. */
  record(job: Job<DataOf<D>>, result: R, t: Tx<S>): void
}

// biome-ignore lint/suspicious/noExplicitAny: each kind has its own data and result types
export type JobKind<S extends Schema = Schema> = RunJobKind<S, any> | PerformJobKind<S, any, any>

/** A service's job kinds by name (`ServiceParts.jobs`); names are the service's own plain strings. */
export type JobKinds<S extends Schema = Schema> = Record<string, JobKind<S>>

/**
 * Declares a job kind with its data typed from its TypeBox schema:
 * `defineJob({ data: t.Object({ orderId: t.String() }), run: (job, t) => orders.expire(t, job.data.orderId) })`.
 */
export function defineJob<S extends Schema, D extends TSchema | undefined = undefined, R = unknown>(
  kind: PerformJobKind<S, D, R>,
): PerformJobKind<S, D, R>
export function defineJob<S extends Schema, D extends TSchema | undefined = undefined>(
  kind: RunJobKind<S, D>,
): RunJobKind<S, D>
export function defineJob(kind: JobKind): JobKind {
  return kind
}

// Ten runs before a job is dead, waiting 1 s doubling between them (capped at 5 min, never reached):
// with jitter, 4 to 9 minutes of retries in all, enough for a provider's short outage.
export const defaultJobRetry: RetryPolicy = { attempts: 10, backoff: { initialMs: 1000, maxMs: 300_000 } }

/** A job whose data does not match its kind's schema: never retried. */
export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError'
}

/** A kind as the platform uses it: its functions, its budget and its data check, compiled once. */
export interface DeclaredKind {
  kind: JobKind
  retry: RetryPolicy
  /** Answers the data to store as JSON (null for none), or throws InvalidJobError. */
  encode(data: unknown): string | null
  /** Answers the stored data, checked, or throws InvalidJobError. */
  decode(json: string | null): unknown
}

function declare(name: string, kind: JobKind): DeclaredKind {
  const check = kind.data ? TypeCompiler.Compile(kind.data) : null
  const checked = (data: unknown) => {
    if (!check) {
      if (data !== undefined) throw new InvalidJobError(`job kind ${name} takes no data`)
      return data
    }
    if (!check.Check(data)) {
      // The offending values are left out: they may hold personal data.
      const problems = [...check.Errors(data)].slice(0, 10).map((e) => `${e.path || '/'} ${e.message}`)
      throw new InvalidJobError(`invalid ${name} data: ${problems.join('; ')}`)
    }
    return data
  }
  return {
    kind,
    retry: kind.retry ?? defaultJobRetry,
    encode: (data) => (checked(data) === undefined ? null : JSON.stringify(data)),
    decode(json) {
      let data: unknown
      try {
        data = json === null ? undefined : JSON.parse(json)
      } catch {
        throw new InvalidJobError(`${name} data is not JSON`)
      }
      return checked(data)
    },
  }
}

const kindsOf = perStore(() => new Map<string, DeclaredKind>())

/** Makes `kinds` the job kinds `t.schedule` accepts on `store` (and the runner runs). */
export function declareJobs(store: Store, kinds: JobKinds): void {
  const declared = kindsOf(store)
  declared.clear()
  for (const [name, kind] of Object.entries(kinds)) declared.set(name, declare(name, kind))
}

/** The declared kind `name` of `store`, if any. */
export const declaredKind = (store: Store, name: string): DeclaredKind | undefined => kindsOf(store).get(name)
