import { isOneOf } from '@mart/shared/db/one-of'
import { sql } from 'drizzle-orm'
import {
  type AnySQLiteColumn,
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
} from 'drizzle-orm/sqlite-core'
import { holdStates } from '../holds.ts'

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

/**
 * Where each order stands with inventory (see holds.ts): the record that makes every transition
 * idempotent and independent of arrival order. `released` and `paid` may be tombstones, written by a
 * release or a payment that arrived before the order.placed they follow. A new state rebuilds the
 * table for its CHECK, by hand: see migration 0002.
 */
export const orderHolds = sqliteTable(
  'order_holds',
  {
    orderId: text('order_id').primaryKey(),
    state: text('state', { enum: holdStates }).notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [check('order_holds_state', isOneOf(t.state, holdStates))],
)

/** The columns of an order's lines, one row per (order, product): what it holds, or what it took. */
const orderLine = () => ({
  orderId: text('order_id')
    .notNull()
    .references(() => orderHolds.orderId),
  productId: text('product_id')
    .notNull()
    .references(() => stockItems.productId),
  quantity: integer('quantity').notNull(),
  createdAt: integer('created_at').notNull(),
})

type OrderLineColumns = Record<'orderId' | 'productId' | 'quantity', AnySQLiteColumn>
const orderLineKeys = (table: string, t: OrderLineColumns) => [
  primaryKey({ columns: [t.orderId, t.productId] }),
  check(`${table}_quantity`, sql`${t.quantity} > 0`),
]

/** What an order holds right now, per product; rows leave when the hold is released or shipped. */
export const reservations = sqliteTable('reservations', orderLine(), (t) => [
  ...orderLineKeys('reservations', t),
  index('reservations_product').on(t.productId),
])

/**
 * What each order took off the shelf, per product (shipHold; `created_at` is when): what a
 * cancellation before the order ships puts back (restock). Kept once the order ships or is
 * restocked, as the record of what it took.
 */
export const committedLines = sqliteTable('committed_lines', orderLine(), (t) =>
  orderLineKeys('committed_lines', t),
)
