// What a transaction does to stock items, and what it announces about them: the primitives that
// the stock commands (stock.ts) and the order holds (reservations.ts) share.
import { onceFor, type StockStatus, type Tx } from '@mart/shared'
import { eq, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { stockItems } from './db/schema.ts'

export type T = Tx<typeof schema>
export type ItemRow = typeof stockItems.$inferSelect

export const availableOf = (i: ItemRow) => i.onHand - i.reserved
const isLow = (i: ItemRow) => availableOf(i) <= i.lowStockThreshold
/** The status events carry: they describe availability, so there is no "discontinued" among them. */
export const stockStatus = (i: ItemRow): StockStatus =>
  availableOf(i) === 0 ? 'out_of_stock' : isLow(i) ? 'low_stock' : 'in_stock'

const p = sql.placeholder

/** Prepared once per database: every order's hold reads and moves its items. */
const statements = onceFor((db: T['db']) => ({
  item: db
    .select()
    .from(stockItems)
    .where(eq(stockItems.productId, p('productId')))
    .prepare(),
  // Counts move by deltas computed in SQL, from the row as it is: the CHECKs refuse an oversell.
  // set() takes values or SQL, not placeholders: each goes in as SQL.
  move: db
    .update(stockItems)
    .set({
      onHand: sql`${stockItems.onHand} + ${p('onHand')}`,
      reserved: sql`${stockItems.reserved} + ${p('reserved')}`,
      updatedAt: sql`${p('now')}`,
    })
    .where(eq(stockItems.productId, p('productId')))
    .returning()
    .prepare(),
  threshold: db
    .update(stockItems)
    .set({ lowStockThreshold: sql`${p('threshold')}`, updatedAt: sql`${p('now')}` })
    .where(eq(stockItems.productId, p('productId')))
    .returning()
    .prepare(),
}))

export const itemIn = (db: T['db'], productId: string): ItemRow | undefined =>
  statements(db).item.get({ productId })

/** How much on hand and reserved move by (either may be left out: no change). */
export type Deltas = Partial<Record<'onHand' | 'reserved', number>>

/** Moves a stock item's counts by `by` (the caller knows the item exists); the row after. */
export const update = (t: T, productId: string, by: Deltas): ItemRow =>
  statements(t.db).move.get({
    productId,
    onHand: by.onHand ?? 0,
    reserved: by.reserved ?? 0,
    now: Date.now(),
  }) as ItemRow

/** Sets a stock item's low stock threshold; the row after. */
export const setThreshold = (t: T, productId: string, threshold: number): ItemRow =>
  statements(t.db).threshold.get({ productId, threshold, now: Date.now() }) as ItemRow

/** Each product a transaction changed: as it was before the first change and after the last. */
export type Changes = Map<string, { before: ItemRow | undefined; after: ItemRow }>
export const track = (changes: Changes, before: ItemRow | undefined, after: ItemRow) => {
  changes.set(after.productId, { before: changes.get(after.productId)?.before ?? before, after })
}

/** Updates a stock item and tracks the change, reading the item first only if it is not tracked yet. */
export function change(t: T, changes: Changes, productId: string, by: Deltas): void {
  const before = changes.has(productId) ? undefined : itemIn(t.db, productId)
  track(changes, before, update(t, productId, by))
}

/**
 * One stock.adjusted per product changed (its state after the transaction, keyed by product so a
 * product's snapshots stay in order), and stock.low when available crossed down to the threshold:
 * once per crossing, not on every sale while already low. Shipping a hold changes on hand and
 * reserved but not what is available; it is announced all the same, so read models of on hand stay
 * right.
 */
export function announce(t: T, changes: Changes, reason: string): void {
  for (const { before, after } of changes.values()) {
    t.publish(
      'stock.adjusted',
      {
        productId: after.productId,
        onHand: after.onHand,
        reserved: after.reserved,
        available: availableOf(after),
        lowStockThreshold: after.lowStockThreshold,
        status: stockStatus(after),
        reason: reason.slice(0, 200),
      },
      { subject: after.productId },
    )
    if (before && !isLow(before) && isLow(after) && !after.discontinued) {
      t.publish(
        'stock.low',
        {
          productId: after.productId,
          available: availableOf(after),
          lowStockThreshold: after.lowStockThreshold,
        },
        { subject: after.productId },
      )
    }
  }
}
