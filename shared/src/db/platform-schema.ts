import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

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
