// Orders as payment knows them, from order.events: an order is payable while it is `unpaid`, and
// what it costs is its own total, never a client's number. Events of one order travel in order on
// its partition, so each simply records what it says.
import type { Event, EventData, Tx } from '@mart/shared'
import { eq } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { orders } from './db/schema.ts'

export const orderStates = [
  'pending',
  'unpaid',
  'confirmed',
  'paid',
  'cancelled',
  'expired',
  'rejected',
] as const
export type OrderState = (typeof orderStates)[number]
/** Ended: money that arrives now is refunded. */
export const endedStates: readonly OrderState[] = ['cancelled', 'expired', 'rejected']

export type T = Tx<typeof schema>
export type OrderRow = typeof orders.$inferSelect
export type PricedLine = EventData<'order.placed'>['lines'][number]

export const orderIn = (db: T['db'], id: string): OrderRow | undefined =>
  db.select().from(orders).where(eq(orders.id, id)).get()

/** order.placed and order.awaiting_payment: the order with its lines and total. */
export function recordOrder(t: T, e: Event<'order.placed'> | Event<'order.awaiting_payment'>): void {
  const d = e.data
  const row = {
    userId: d.userId,
    number: d.number,
    totalAmount: d.total.amount,
    currency: d.total.currency,
    lines: JSON.stringify(d.lines),
    updatedAt: Date.now(),
  }
  const state: OrderState = e.type === 'order.placed' ? 'pending' : 'unpaid'
  const expiresAt = e.type === 'order.awaiting_payment' ? Date.parse(e.data.expiresAt) : null
  const known = orderIn(t.db, d.orderId)
  if (!known) {
    t.db
      .insert(orders)
      .values({ id: d.orderId, state, expiresAt, ...row })
      .run()
    return
  }
  // order.placed after a later event of the same order cannot happen on one partition; a redrive
  // could bring it back late: it must not reopen an order that moved on.
  const next = known.state === 'pending' ? state : known.state
  t.db
    .update(orders)
    .set({ ...row, state: next, expiresAt: expiresAt ?? known.expiresAt })
    .where(eq(orders.id, d.orderId))
    .run()
}

/** The order moved on (confirmed, paid, ended): answers the row as it was before. */
export function moveOrder(t: T, orderId: string, state: OrderState): OrderRow | undefined {
  const known = orderIn(t.db, orderId)
  if (known) t.db.update(orders).set({ state, updatedAt: Date.now() }).where(eq(orders.id, orderId)).run()
  return known
}
