import {
  conflict,
  type EventData,
  keysetPages,
  notFound,
  type PageRequest,
  requestContext,
  type StockItemStatus,
  type StockStatus,
  type Store,
  type TraceContext,
  type Tx,
  tx,
} from '@mart/shared'
import { Type } from '@sinclair/typebox'
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { orderHolds, reservations, stockItems } from './db/schema.ts'
import type { HoldState } from './holds.ts'

type Db = Store<typeof schema>
type T = Tx<typeof schema>
type ItemRow = typeof stockItems.$inferSelect

export interface Line {
  productId: string
  quantity: number
}
type Rejection = EventData<'stock.rejected'>['reasons'][number]

// The largest quantity an event line may carry (the catalog's Quantity). Lines of one product are
// summed, so an order could ask for more; it is rejected rather than announced with an invalid event.
const MAX_LINE_QUANTITY = 1_000_000

export const availableOf = (i: ItemRow) => i.onHand - i.reserved
const isLow = (i: ItemRow) => availableOf(i) <= i.lowStockThreshold
/** The status events carry: they describe availability, so there is no "discontinued" among them. */
const stockStatus = (i: ItemRow): StockStatus =>
  availableOf(i) === 0 ? 'out_of_stock' : isLow(i) ? 'low_stock' : 'in_stock'
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

/** Each product a transaction changed: as it was before the first change and after the last. */
type Changes = Map<string, { before: ItemRow | undefined; after: ItemRow }>
const track = (changes: Changes, before: ItemRow | undefined, after: ItemRow) => {
  changes.set(after.productId, { before: changes.get(after.productId)?.before ?? before, after })
}

/**
 * Stock items and the reservations orders hold on them. Every change emits its events in the same
 * commit. Order transitions follow a per-order state (the `order_holds` table), so each one happens at
 * most once whatever the delivery order:
 *
 * | event \ state                | none                 | paid                         | reserved   | others |
 * | order.placed                 | reserve or reject    | reserve + commit, or reject  | -          | -      |
 * | order.cancelled/expired/rej. | tombstone `released` | tombstone `released`         | release    | -      |
 * | payment.succeeded/order.paid | tombstone `paid`     | -                            | commit     | -      |
 *
 * `-` changes and emits nothing (a duplicate, or the order is closed). Tombstones emit nothing:
 * nothing is held, and the lines are not known yet. An order.placed that finds `released` reserves
 * nothing and emits nothing either: the order was closed before inventory saw it, and its service
 * knows that already; announcing stock.reserved would reopen it, stock.released would report a
 * reservation that never existed. A release beats a payment (an order is only cancelled or expired
 * while unpaid, so a payment seen for it is refunded by its own service, not shipped).
 */
export class Stock {
  constructor(
    private readonly store: Db,
    private readonly defaultThreshold: number,
  ) {}

  item(productId: string): ItemRow | undefined {
    return this.store.db.select().from(stockItems).where(eq(stockItems.productId, productId)).get()
  }

  orderState(orderId: string): HoldState | undefined {
    return this.store.db.select().from(orderHolds).where(eq(orderHolds.orderId, orderId)).get()?.state
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

  // --- driven by events (inside the consumer's transaction) ---

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
    if (row) this.announce(t, new Map([[productId, { before: undefined, after: row }]]), reason)
  }

  /**
   * product.deleted: no new reservations; what orders hold can still be released or committed.
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

  /** order.placed: every line reserved, or none (see the class comment for the states). */
  place(t: T, orderId: string, lines: Line[], reason: string): void {
    const state = this.orderState(orderId)
    if (state !== undefined && state !== 'paid') return
    const wanted = merge(lines)
    const items = wanted.map((line) => ({ line, item: this.item(line.productId) }))
    const rejections: Rejection[] = []
    for (const { line, item } of items) {
      const requested = Math.min(line.quantity, MAX_LINE_QUANTITY)
      const refuse = (reason: Rejection['reason'], available: number) =>
        rejections.push({ productId: line.productId, reason, requested, available })
      if (!item) refuse('unknown_product', 0)
      else if (item.discontinued) refuse('discontinued', 0)
      else if (line.quantity > availableOf(item) || line.quantity > MAX_LINE_QUANTITY)
        refuse('insufficient_stock', availableOf(item))
    }
    if (rejections.length > 0) {
      this.setState(t, orderId, 'rejected')
      t.publish('stock.rejected', { orderId, reasons: rejections }, { subject: orderId })
      return
    }
    const now = Date.now()
    const changes: Changes = new Map()
    for (const { line, item } of items) {
      track(
        changes,
        item,
        this.update(t, line.productId, { reserved: sql`${stockItems.reserved} + ${line.quantity}` }),
      )
    }
    this.setState(t, orderId, 'reserved')
    t.db
      .insert(reservations)
      .values(wanted.map((l) => ({ orderId, productId: l.productId, quantity: l.quantity, createdAt: now })))
      .run()
    t.publish('stock.reserved', { orderId, lines: wanted }, { subject: orderId })
    // Paid before inventory saw the order: what was just reserved leaves the shelf at once.
    if (state === 'paid') this.takeBack(t, orderId, 'committed', changes)
    this.announce(t, changes, reason)
  }

  /** order.cancelled, order.expired, order.rejected: give back what the order holds. */
  release(t: T, orderId: string, reason: string): void {
    const state = this.orderState(orderId)
    if (state === undefined || state === 'paid') {
      this.setState(t, orderId, 'released')
      return
    }
    if (state !== 'reserved') return
    const changes: Changes = new Map()
    this.takeBack(t, orderId, 'released', changes)
    this.announce(t, changes, reason)
  }

  /** payment.succeeded, order.paid: what the order holds leaves the shelf. */
  commit(t: T, orderId: string, reason: string): void {
    const state = this.orderState(orderId)
    if (state === undefined) {
      this.setState(t, orderId, 'paid')
      return
    }
    if (state !== 'reserved') return
    const changes: Changes = new Map()
    this.takeBack(t, orderId, 'committed', changes)
    this.announce(t, changes, reason)
  }

  // --- admin (HTTP) ---

  /** A restock (delta > 0) or a write-off (delta < 0); never below what orders hold (409). */
  adjust(productId: string, delta: number, reason: string, trace?: TraceContext): ItemRow {
    return tx(
      this.store,
      (t) => {
        const before = this.item(productId)
        if (!before) throw notFound('no stock item for that product')
        if (before.onHand + delta < before.reserved) {
          throw conflict(
            `on hand would drop to ${before.onHand + delta}, below the ${before.reserved} reserved by orders`,
          )
        }
        const after = this.update(t, productId, { onHand: sql`${stockItems.onHand} + ${delta}` })
        this.announce(t, new Map([[productId, { before, after }]]), reason)
        return after
      },
      requestContext(trace),
    )
  }

  setThreshold(productId: string, lowStockThreshold: number, trace?: TraceContext): ItemRow {
    return tx(
      this.store,
      (t) => {
        const before = this.item(productId)
        if (!before) throw notFound('no stock item for that product')
        if (before.lowStockThreshold === lowStockThreshold) return before
        const after = this.update(t, productId, { lowStockThreshold })
        // The status (in_stock / low_stock) may change with the threshold alone.
        this.announce(t, new Map([[productId, { before, after }]]), 'low stock threshold changed')
        return after
      },
      requestContext(trace),
    )
  }

  // --- internals ---

  private update(
    t: T,
    productId: string,
    set: Partial<Record<'onHand' | 'reserved' | 'lowStockThreshold', number | ReturnType<typeof sql>>>,
  ): ItemRow {
    return t.db
      .update(stockItems)
      .set({ ...set, updatedAt: Date.now() })
      .where(eq(stockItems.productId, productId))
      .returning()
      .get() as ItemRow
  }

  private setState(t: T, orderId: string, state: HoldState): void {
    const now = Date.now()
    t.db
      .insert(orderHolds)
      .values({ orderId, state, updatedAt: now })
      .onConflictDoUpdate({ target: orderHolds.orderId, set: { state, updatedAt: now } })
      .run()
  }

  /** Ends an order's reservations: given back to the shelf (released) or taken off it (committed). */
  private takeBack(t: T, orderId: string, outcome: 'released' | 'committed', changes: Changes): void {
    const held = t.db
      .select({ productId: reservations.productId, quantity: reservations.quantity })
      .from(reservations)
      .where(eq(reservations.orderId, orderId))
      .orderBy(asc(reservations.productId))
      .all()
    for (const { productId, quantity } of held) {
      const before = changes.get(productId)?.after ?? this.item(productId)
      const onHand = outcome === 'committed' ? sql`${stockItems.onHand} - ${quantity}` : undefined
      track(
        changes,
        before,
        this.update(t, productId, {
          reserved: sql`${stockItems.reserved} - ${quantity}`,
          ...(onHand && { onHand }),
        }),
      )
    }
    t.db.delete(reservations).where(eq(reservations.orderId, orderId)).run()
    this.setState(t, orderId, outcome)
    if (held.length === 0) return
    const type = outcome === 'committed' ? 'stock.committed' : 'stock.released'
    t.publish(type, { orderId, lines: held }, { subject: orderId })
  }

  /**
   * One stock.adjusted per product changed (its state after the transaction, keyed by product so a
   * product's snapshots stay in order), and stock.low when available crossed down to the threshold:
   * once per crossing, not on every sale while already low. A commit changes on hand and reserved
   * but not what is available; it is announced all the same, so read models of on hand stay right.
   */
  private announce(t: T, changes: Changes, reason: string): void {
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
}

/** Lines of the same product summed, in product order: one reservation row per (order, product). */
function merge(lines: Line[]): Line[] {
  const sums = new Map<string, number>()
  for (const l of lines) sums.set(l.productId, (sums.get(l.productId) ?? 0) + l.quantity)
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }))
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
