// What the notification service keeps from other services' events to address and word its
// notices: who people are (user.events), orders by number (order.events), product names.
import { type Event, type EventData, fromExcluded, onceFor } from '@mart/shared'
import { sql } from 'drizzle-orm'
import { orders, products, recipients } from './db/schema.ts'
import type { T } from './notify.ts'

type UserSnapshot = EventData<'user.registered'>

const p = sql.placeholder
/**
 * Prepared once per database: every order event is remembered. An upsert's set() takes SQL, not
 * placeholders: it takes the row it would have inserted (`excluded`).
 */
const statements = onceFor((db: T['db']) => ({
  user: db
    .insert(recipients)
    .values({
      id: p('id'),
      username: p('username'),
      email: p('email'),
      role: p('role'),
      active: p('active'),
      eventId: p('eventId'),
    })
    .onConflictDoUpdate({
      target: recipients.id,
      set: fromExcluded(recipients, ['username', 'email', 'role', 'active', 'eventId']),
      // An older event (redelivered late) does not undo a newer one.
      setWhere: sql`${recipients.eventId} < excluded.event_id`,
    })
    .prepare(),
  order: db
    .insert(orders)
    .values({
      id: p('id'),
      userId: p('userId'),
      number: p('number'),
      totalAmount: p('totalAmount'),
      currency: p('currency'),
      lines: p('lines'),
    })
    .onConflictDoUpdate({
      target: orders.id,
      set: fromExcluded(orders, ['userId', 'number', 'totalAmount', 'currency', 'lines']),
    })
    .prepare(),
  product: db
    .insert(products)
    .values({ id: p('id'), name: p('name'), eventId: p('eventId') })
    .onConflictDoUpdate({
      target: products.id,
      set: fromExcluded(products, ['name', 'eventId']),
      setWhere: sql`${products.eventId} < excluded.event_id`,
    })
    .prepare(),
}))

/** user.registered, user.updated, user.deleted: the directory entry as the event has it. */
export function rememberUser(t: T, u: UserSnapshot, eventId: string, deleted: boolean): void {
  statements(t.db).user.run({
    id: u.id,
    username: u.username,
    email: u.email,
    role: u.role,
    active: !u.disabled && !deleted,
    eventId,
  })
}

export function rememberOrder(t: T, e: Event<'order.placed'> | Event<'order.awaiting_payment'>): void {
  const d = e.data
  statements(t.db).order.run({
    id: d.orderId,
    userId: d.userId,
    number: d.number,
    totalAmount: d.total.amount,
    currency: d.total.currency,
    lines: JSON.stringify(d.lines),
  })
}

export function rememberProduct(t: T, p: { id: string; name: string }, eventId: string): void {
  statements(t.db).product.run({ id: p.id, name: p.name, eventId })
}
