import {
  conflict,
  found,
  keysetPages,
  type PageRequest,
  requestContext,
  type StockItemStatus,
  type Store,
  type TraceContext,
  tx,
} from '@mart/shared'
import { Type } from '@sinclair/typebox'
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { reservations, stockItems } from './db/schema.ts'
import {
  announce,
  availableOf,
  type ItemRow,
  itemIn,
  setThreshold,
  stockStatus,
  type T,
  update,
} from './shelf.ts'

/** The 404's detail for a product inventory does not know. */
export const NO_ITEM = 'no stock item for that product'

export const statusOf = (i: ItemRow): StockItemStatus => (i.discontinued ? 'discontinued' : stockStatus(i))

export const view = (i: ItemRow) => ({
  productId: i.productId,
  onHand: i.onHand,
  reserved: i.reserved,
  available: availableOf(i),
  lowStockThreshold: i.lowStockThreshold,
  status: statusOf(i),
  updatedAt: new Date(i.updatedAt).toISOString(),
})

/**
 * Stock items: created and discontinued by product events, restocked, written off and given a
 * threshold by an admin. Every change emits its events in the same commit. What orders hold on
 * them is reservations.ts.
 */
export class Stock {
  constructor(
    private readonly store: Store<typeof schema>,
    private readonly defaultThreshold: number,
  ) {}

  item(productId: string): ItemRow | undefined {
    return itemIn(this.store.db, productId)
  }

  /** What orders hold on a product right now, oldest first. */
  openReservations(productId: string) {
    return this.store.db
      .select({ orderId: reservations.orderId, quantity: reservations.quantity, at: reservations.createdAt })
      .from(reservations)
      .where(eq(reservations.productId, productId))
      .orderBy(asc(reservations.createdAt), asc(reservations.orderId))
      .all()
      .map((r) => ({ orderId: r.orderId, quantity: r.quantity, reservedAt: new Date(r.at).toISOString() }))
  }

  /** One page of stock items by product id, optionally of one status. */
  list(opts: PageRequest & { status?: StockItemStatus | undefined }) {
    const { limit, after } = stockPages.read(opts)
    const rows = this.store.db
      .select()
      .from(stockItems)
      .where(
        and(
          after ? gt(stockItems.productId, after) : undefined,
          opts.status ? statusCondition[opts.status] : undefined,
        ),
      )
      .orderBy(asc(stockItems.productId))
      .limit(limit + 1)
      .all()
    return stockPages.page(rows, limit, (item) => item.productId)
  }

  // --- driven by product events (inside the consumer's transaction) ---

  /** product.created: a stock item with its initial stock. A repeat changes nothing. */
  create(t: T, productId: string, initialStock: number, reason: string): void {
    const now = Date.now()
    const row = t.db
      .insert(stockItems)
      .values({
        productId,
        onHand: initialStock,
        lowStockThreshold: this.defaultThreshold,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning()
      .get()
    if (row) announce(t, new Map([[productId, { before: undefined, after: row }]]), reason)
  }

  /**
   * product.deleted: no new reservations; what orders hold can still be released or shipped.
   * A deletion that overtook its creation leaves a discontinued item with no stock, so the late
   * product.created changes nothing.
   */
  discontinue(t: T, productId: string): void {
    const now = Date.now()
    t.db
      .insert(stockItems)
      .values({
        productId,
        onHand: 0,
        lowStockThreshold: this.defaultThreshold,
        discontinued: true,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({ target: stockItems.productId, set: { discontinued: true, updatedAt: now } })
      .run()
  }

  // --- admin (HTTP) ---

  /** A restock (delta > 0) or a write-off (delta < 0); never below what orders hold (409). */
  adjust(productId: string, delta: number, reason: string, trace?: TraceContext): ItemRow {
    return tx(
      this.store,
      (t) => {
        const before = found(itemIn(t.db, productId), NO_ITEM)
        if (before.onHand + delta < before.reserved) {
          throw conflict(
            `on hand would drop to ${before.onHand + delta}, below the ${before.reserved} reserved by orders`,
          )
        }
        const after = update(t, productId, { onHand: delta })
        announce(t, new Map([[productId, { before, after }]]), reason)
        return after
      },
      requestContext(trace),
    )
  }

  setThreshold(productId: string, lowStockThreshold: number, trace?: TraceContext): ItemRow {
    return tx(
      this.store,
      (t) => {
        const before = found(itemIn(t.db, productId), NO_ITEM)
        if (before.lowStockThreshold === lowStockThreshold) return before
        const after = setThreshold(t, productId, lowStockThreshold)
        // The status (in_stock / low_stock) may change with the threshold alone.
        announce(t, new Map([[productId, { before, after }]]), 'low stock threshold changed')
        return after
      },
      requestContext(trace),
    )
  }
}

const available = sql`(${stockItems.onHand} - ${stockItems.reserved})`
const active = eq(stockItems.discontinued, false)
const statusCondition = {
  discontinued: eq(stockItems.discontinued, true),
  out_of_stock: and(active, sql`${available} = 0`),
  low_stock: and(active, sql`${available} > 0 AND ${available} <= ${stockItems.lowStockThreshold}`),
  in_stock: and(active, sql`${available} > ${stockItems.lowStockThreshold}`),
} satisfies Record<StockItemStatus, unknown>

/** Stock items by product id, the cursor being the last product id of a page. */
export const stockPages = keysetPages(Type.String({ minLength: 1, maxLength: 64 }))
