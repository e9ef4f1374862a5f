import { isOneOf } from '@mart/shared/db/one-of'
import { sql } from 'drizzle-orm'
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { orderInputs, orderStatuses, paymentStates } from '../transitions.ts'

/**
 * The catalogue as the order service knows it, from product.events: what an order is priced with.
 * `event_id` (uuid v7, ordered by time) keeps an older event, redriven late, from undoing a newer one.
 */
export const products = sqliteTable(
  'products',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    priceAmount: integer('price_amount').notNull(),
    currency: text('currency').notNull(),
    /** False once the product is inactive or deleted: it can no longer be ordered. */
    orderable: integer('orderable', { mode: 'boolean' }).notNull(),
    eventId: text('event_id').notNull(),
  },
  (t) => [check('products_price', sql`${t.priceAmount} >= 0`)],
)

/**
 * One row per order. `version` rises with every change: the stream's event id and the key of
 * `order_versions`. Money is integer minor units; `total_amount` is the exact sum of the lines.
 */
export const orders = sqliteTable(
  'orders',
  {
    /** uuid v7: ordered by creation time, so the newest-first list is an index scan. */
    id: text('id').primaryKey(),
    /** Shown as MRT-<number>; unique and increasing (the largest so far plus one, in the placing transaction). */
    number: integer('number').notNull(),
    userId: text('user_id').notNull(),
    status: text('status', { enum: orderStatuses }).notNull(),
    payment: text('payment', { enum: paymentStates }).notNull(),
    currency: text('currency').notNull(),
    totalAmount: integer('total_amount').notNull(),
    /** JSON of the shipping address, as given. */
    shippingAddress: text('shipping_address'),
    note: text('note'),
    /** When an unpaid order expires; null once it no longer can (paid, confirmed, ended). */
    expiresAt: integer('expires_at'),
    /** JSON of why it ended, when it has: stock rejections, or who cancelled and why. */
    outcome: text('outcome'),
    version: integer('version').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('orders_number').on(t.number),
    index('orders_user').on(t.userId, t.id),
    index('orders_status').on(t.status, t.id),
    check('orders_status', isOneOf(t.status, orderStatuses)),
    check('orders_payment', isOneOf(t.payment, paymentStates)),
    check('orders_total', sql`${t.totalAmount} >= 0`),
  ],
)

/** An order's lines, one per product (lines of one product are merged), priced when placed. */
export const orderLines = sqliteTable(
  'order_lines',
  {
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    /** The line's position in the order as answered (1-based). */
    position: integer('position').notNull(),
    productId: text('product_id').notNull(),
    name: text('name').notNull(),
    quantity: integer('quantity').notNull(),
    unitAmount: integer('unit_amount').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.productId] }),
    check('order_lines_quantity', sql`${t.quantity} > 0`),
    check('order_lines_unit', sql`${t.unitAmount} >= 0`),
  ],
)

/** The order's view after each change, so a stream that reconnects replays every state it missed. */
export const orderVersions = sqliteTable(
  'order_versions',
  {
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    version: integer('version').notNull(),
    /** JSON of the order's view at this version. */
    view: text('view').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.version] })],
)

/**
 * Everything that touched an order, as the order service saw it: each input (event, command, job),
 * the state it found and what it did, or that it was ignored and why. Written in the transaction
 * that applied it, so it is exactly what happened.
 */
export const timeline = sqliteTable(
  'order_timeline',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    orderId: text('order_id').notNull(),
    /** The event type (stock.reserved), or the command or job (order.cancel, order.expire). */
    type: text('type').notNull(),
    input: text('input', { enum: ['placed', ...orderInputs] }).notNull(),
    /** The service it came from; `order` for commands and jobs. */
    source: text('source').notNull(),
    /** The consumed event's id; for a command or job, the id of the event it emitted, if any. */
    eventId: text('event_id'),
    causationId: text('causation_id'),
    /** Who acted, for a command: the user's id. */
    actorId: text('actor_id'),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    /** moved (the state or payment changed), ignored (the pair no longer applies). */
    outcome: text('outcome', { enum: ['moved', 'ignored'] }).notNull(),
    /** JSON list of the events this input made the order emit. */
    emitted: text('emitted').notNull(),
    reason: text('reason'),
    at: integer('at').notNull(),
  },
  (t) => [index('order_timeline_order').on(t.orderId, t.seq)],
)
