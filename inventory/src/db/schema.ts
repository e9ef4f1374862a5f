import { sql } from 'drizzle-orm'
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * One row per product. The invariant `0 <= reserved <= on_hand` is a CHECK, so no code path (a
 * handler bug, a concurrent writer, a hand-written UPDATE) can oversell: SQLite refuses the write.
 */
export const stockItems = sqliteTable(
  'stock_items',
  {
    productId: text('product_id').primaryKey(),
    onHand: integer('on_hand').notNull(),
    reserved: integer('reserved').notNull().default(0),
    lowStockThreshold: integer('low_stock_threshold').notNull(),
    /** The product left the catalogue: no new reservations; held ones can still be released or committed. */
    discontinued: integer('discontinued', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    check('stock_items_on_hand', sql`${t.onHand} >= 0`),
    check('stock_items_reserved', sql`${t.reserved} >= 0 AND ${t.reserved} <= ${t.onHand}`),
    check('stock_items_threshold', sql`${t.lowStockThreshold} >= 0`),
  ],
)

export const orderStates = ['reserved', 'rejected', 'released', 'committed', 'paid'] as const
export type OrderState = (typeof orderStates)[number]

/**
 * Where each order stands with inventory: the record that makes every transition idempotent and
 * independent of arrival order. `released` and `paid` may be tombstones, written by a release or a
 * payment that arrived before the order.placed they follow (see stock.ts).
 */
export const orders = sqliteTable(
  'orders',
  {
    orderId: text('order_id').primaryKey(),
    state: text('state', { enum: orderStates }).notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    check('orders_state', sql`${t.state} IN ('reserved', 'rejected', 'released', 'committed', 'paid')`),
  ],
)

/** What an order holds right now, per product; rows leave when the order is released or committed. */
export const reservations = sqliteTable(
  'reservations',
  {
    orderId: text('order_id')
      .notNull()
      .references(() => orders.orderId),
    productId: text('product_id')
      .notNull()
      .references(() => stockItems.productId),
    quantity: integer('quantity').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.productId] }),
    index('reservations_product').on(t.productId),
    check('reservations_quantity', sql`${t.quantity} > 0`),
  ],
)
