// What a transaction does to stock items, and what it announces about them: the primitives that
// the stock commands (stock.ts) and the order holds (reservations.ts) share.
import type { StockStatus, Tx } from '@mart/shared'
import { eq, type SQL } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { stockItems } from './db/schema.ts'

export type T = Tx<typeof schema>
export type ItemRow = typeof stockItems.$inferSelect

export const availableOf = (i: ItemRow) => i.onHand - i.reserved
const isLow = (i: ItemRow) => availableOf(i) <= i.lowStockThreshold
/** The status events carry: they describe availability, so there is no "discontinued" among them. */
export const stockStatus = (i: ItemRow): StockStatus =>
  availableOf(i) === 0 ? 'out_of_stock' : isLow(i) ? 'low_stock' : 'in_stock'

export const itemIn = (db: T['db'], productId: string): ItemRow | undefined =>
  db.select().from(stockItems).where(eq(stockItems.productId, productId)).get()

export function update(
  t: T,
  productId: string,
  set: Partial<Record<'onHand' | 'reserved' | 'lowStockThreshold', number | SQL>>,
): ItemRow {
  return t.db
    .update(stockItems)
    .set({ ...set, updatedAt: Date.now() })
    .where(eq(stockItems.productId, productId))
    .returning()
    .get() as ItemRow
}

/** Each product a transaction changed: as it was before the first change and after the last. */
export type Changes = Map<string, { before: ItemRow | undefined; after: ItemRow }>
export const track = (changes: Changes, before: ItemRow | undefined, after: ItemRow) => {
  changes.set(after.productId, { before: changes.get(after.productId)?.before ?? before, after })
}

/** Updates a stock item and tracks the change, reading the item first only if it is not tracked yet. */
export function change(t: T, changes: Changes, productId: string, set: Parameters<typeof update>[2]): void {
  const before = changes.has(productId) ? undefined : itemIn(t.db, productId)
  track(changes, before, update(t, productId, set))
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
