import { sql } from 'drizzle-orm'
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { jobStates } from '../jobs/state.ts'
import { isOneOf } from './one-of.ts'

/**
 * Events staged in the same transaction as the domain write that caused them. `seq` gives the
 * publish order; `sent_at` is set once the broker acknowledged the message.
 */
export const outbox = sqliteTable(
  'mart_outbox',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    eventId: text('event_id').notNull().unique(),
    topic: text('topic').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    headers: text('headers').notNull(),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
  },
  (t) => [
    index('mart_outbox_pending').on(t.seq).where(sql`${t.sentAt} IS NULL`),
    index('mart_outbox_sent_at').on(t.sentAt).where(sql`${t.sentAt} IS NOT NULL`),
  ],
)

/** Which events each consumer group has already applied; a redelivery finds its row and stops. */
export const inbox = sqliteTable(
  'mart_inbox',
  {
    consumer: text('consumer').notNull(),
    eventId: text('event_id').notNull(),
    topic: text('topic').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] }), index('mart_inbox_received_at').on(t.receivedAt)],
)

/**
 * Users whose older access tokens this service refuses (`user.sessions_revoked`): every token issued
 * at or before `not_before` (ms). Kept until `expires_at`, when those tokens have expired anyway.
 */
export const revocations = sqliteTable(
  'mart_revocations',
  {
    userId: text('user_id').primaryKey(),
    notBefore: integer('not_before').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('mart_revocations_expires_at').on(t.expiresAt)],
)

/**
 * Durable jobs (`t.schedule`): one row per (kind, key), which is what makes scheduling idempotent.
 * Times are ms since the epoch. A `running` row belongs to the runner that leased it until
 * `lease_until`; past that it is due again (its runner died). `attempts` counts the leases taken,
 * and a runner writes a job's outcome only while `attempts` is still the one it leased it with.
 */
export const jobs = sqliteTable(
  'mart_jobs',
  {
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    state: text('state', { enum: jobStates }).notNull(),
    runAt: integer('run_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    leaseUntil: integer('lease_until'),
    /** The job's data as JSON; NULL for a kind without data. */
    data: text('data'),
    /** Message of the last failure (bounded, no stack). */
    lastError: text('last_error'),
    /** W3C traceparent of the transaction that scheduled it: the job's work joins that trace. */
    traceparent: text('traceparent'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.key] }),
    index('mart_jobs_state_run_at').on(t.state, t.runAt),
    check('mart_jobs_state', isOneOf(t.state, jobStates)),
    check('mart_jobs_attempts', sql`${t.attempts} >= 0`),
  ],
)

/**
 * Idempotency-Key per user (`idempotency.ts`): the primary key, not a lookup first, decides between
 * two concurrent requests with one key. `status` and `body` are the answer the key replays, written
 * in the transaction that claimed it; `resource_id` is what that request created.
 */
export const idempotencyKeys = sqliteTable(
  'mart_idempotency_keys',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    /** sha-256 of the request's canonical JSON: the same key with another body is refused. */
    requestHash: text('request_hash').notNull(),
    resourceId: text('resource_id').notNull(),
    status: integer('status').notNull(),
    body: text('body').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index('mart_idempotency_keys_created_at').on(t.createdAt),
  ],
)
