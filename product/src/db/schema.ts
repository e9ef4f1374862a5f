import { isOneOf } from '@mart/shared/db/one-of'
import { stockStatuses } from '@mart/shared/events/enums'
import { sql } from 'drizzle-orm'
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const products = sqliteTable(
  'products',
  {
    /**
     * The rowid, stable because it is an INTEGER PRIMARY KEY (VACUUM may renumber implicit
     * rowids): the full-text index (products_fts, migration 0001) points at it. Never exposed.
     */
    seq: integer('seq').primaryKey(),
    /** uuid v7: the public id, time-ordered, so it doubles as the "newest" sort key. */
    id: text('id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** Integer minor units (1999 is 19.99), never a float. */
    priceAmount: integer('price_amount').notNull(),
    currency: text('currency').notNull(),
    sku: text('sku'),
    imageUrl: text('image_url'),
    /** What product.created announced; the stock shown until inventory says otherwise. */
    initialStock: integer('initial_stock').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** Soft delete: the row stays (orders keep their own copy of the price), the catalogue hides it. */
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    uniqueIndex('products_id_unique').on(t.id),
    // One live product per SKU, case-insensitively; a deleted product's SKU may be reused.
    uniqueIndex('products_sku_unique').on(sql`lower(${t.sku})`).where(sql`${t.deletedAt} IS NULL`),
    // The keyset orders of the catalogue, over live products only.
    index('products_price').on(t.priceAmount, t.id).where(sql`${t.deletedAt} IS NULL`),
    check('products_price_amount', sql`${t.priceAmount} >= 0`),
    check('products_initial_stock', sql`${t.initialStock} >= 0`),
  ],
)

/**
 * The stock read model: the latest stock.adjusted of each product from inventory.events. Its own
 * table, not columns on products: inventory owns these numbers, and an event may name a product
 * this service has no row for (yet, or any more).
 */
export const stock = sqliteTable(
  'stock',
  {
    productId: text('product_id').primaryKey(),
    status: text('status', { enum: stockStatuses }).notNull(),
    available: integer('available').notNull(),
    /** The id (uuid v7, time-ordered) of the event applied last: an older one never overwrites it. */
    eventId: text('event_id').notNull(),
  },
  (t) => [check('stock_status', isOneOf(t.status, stockStatuses))],
)
