// Orders as payment knows them, from order.events: an order is payable while it is `unpaid`, and
// what it costs is its own total, never a client's number. Events of one order travel in order on
// its partition, so each simply records what it says.
import { type Event, type EventData, fromExcluded, onceFor, type Tx } from '@mart/shared'
import { eq, sql } from 'drizzle-orm'
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

const p = sql.placeholder
/** Prepared once per database: every order event and every payment reads or moves its order. */
const statements = onceFor((db: T['db']) => ({
  byId: db
    .select()
    .from(orders)
    .where(eq(orders.id, p('id')))
    .prepare(),
  // An upsert's set() takes SQL: the row it would have inserted is `excluded`.
  record: db
    .insert(orders)
    .values({
      id: p('id'),
      userId: p('userId'),
      number: p('number'),
      state: p('state'),
      totalAmount: p('totalAmount'),
      currency: p('currency'),
      lines: p('lines'),
      expiresAt: p('expiresAt'),
      updatedAt: p('updatedAt'),
    })
    .onConflictDoUpdate({
      target: orders.id,
      set: {
        ...fromExcluded(orders, ['userId', 'number', 'totalAmount', 'currency', 'lines', 'updatedAt']),
        // order.placed after a later event of the same order cannot happen on one partition; a
        // redrive could bring it back late: it must not reopen an order that moved on.
        state: sql`CASE WHEN ${orders.state} = 'pending' THEN excluded.state ELSE ${orders.state} END`,
        expiresAt: sql`coalesce(excluded.expires_at, ${orders.expiresAt})`,
      },
    })
    .prepare(),
  // set() takes values or SQL, not placeholders.
  move: db
    .update(orders)
    .set({ state: sql`${p('state')}`, updatedAt: sql`${p('updatedAt')}` })
    .where(eq(orders.id, p('id')))
    .prepare(),
}))

export const orderIn = (db: T['db'], id: string): OrderRow | undefined => statements(db).byId.get({ id })

/** order.placed and order.awaiting_payment: the order with its lines and total. */
export function recordOrder(t: T, e: Event<'order.placed'> | Event<'order.awaiting_payment'>): void {
  const d = e.data
  const state: OrderState = e.type === 'order.placed' ? 'pending' : 'unpaid'
  statements(t.db).record.run({
    id: d.orderId,
    userId: d.userId,
    number: d.number,
    state,
    totalAmount: d.total.amount,
    currency: d.total.currency,
    lines: JSON.stringify(d.lines),
    expiresAt: e.type === 'order.awaiting_payment' ? Date.parse(e.data.expiresAt) : null,
    updatedAt: Date.now(),
  })
}

/** The order moved on (confirmed, paid, ended): answers the row as it was before. */
export function moveOrder(t: T, orderId: string, state: OrderState): OrderRow | undefined {
  const known = orderIn(t.db, orderId)
  if (known) statements(t.db).move.run({ id: orderId, state, updatedAt: Date.now() })
  return known
}
