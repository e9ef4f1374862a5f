import { isOneOf } from '@mart/shared/db/one-of'
import { roles } from '@mart/shared/events/enums'
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { categories } from '../categories.ts'

/** Who can be told: from user.events. `event_id` keeps an older event from undoing a newer one. */
export const recipients = sqliteTable(
  'recipients',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    role: text('role', { enum: roles }).notNull(),
    /** Disabled or deleted: gets nothing new. */
    active: integer('active', { mode: 'boolean' }).notNull(),
    eventId: text('event_id').notNull(),
  },
  (t) => [index('recipients_role').on(t.role, t.active)],
)

/** In-app notifications; one per (event, notice, user), so a redelivered event adds nothing. */
export const notifications = sqliteTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    category: text('category', { enum: categories }).notNull(),
    notice: text('notice').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    /** What it is about (an order id, a product id), for a client to link to. */
    subject: text('subject'),
    eventId: text('event_id').notNull(),
    readAt: integer('read_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('notifications_once').on(t.eventId, t.notice, t.userId),
    index('notifications_user').on(t.userId, t.id),
    check('notifications_category', isOneOf(t.category, categories)),
  ],
)

/**
 * One email to send, per (event, notice, address): unique, so a redelivered event adds nothing.
 * The job `mail.send` (keyed by the delivery id) sends it; `sent_at` is set once the server took it.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    eventId: text('event_id').notNull(),
    notice: text('notice').notNull(),
    address: text('address').notNull(),
    userId: text('user_id'),
    /** Derived from (event, notice, address): a resend is recognisably the same message. */
    messageId: text('message_id').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    sentAt: integer('sent_at'),
    /** What the server answered when it took it. */
    response: text('response'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('deliveries_once').on(t.eventId, t.notice, t.address),
    index('deliveries_sent').on(t.sentAt, t.id),
  ],
)

/** Email on or off per person and category; no row: on. */
export const preferences = sqliteTable(
  'preferences',
  {
    userId: text('user_id').notNull(),
    category: text('category', { enum: categories }).notNull(),
    email: integer('email', { mode: 'boolean' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.category] })],
)

/** Orders as notices name them (their number) and describe them, from order.events. */
export const orders = sqliteTable('orders', {
  id: text('id').primaryKey(),
  userId: text('user_id').notNull(),
  number: text('number').notNull(),
  totalAmount: integer('total_amount').notNull(),
  currency: text('currency').notNull(),
  /** JSON of the priced lines. */
  lines: text('lines').notNull(),
})

/** Product names, for the admins' stock alerts, from product.events. */
export const products = sqliteTable('products', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  eventId: text('event_id').notNull(),
})
