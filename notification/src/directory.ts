// What the notification service keeps from other services' events to address and word its
// notices: who people are (user.events), orders by number (order.events), product names.
import type { Event, EventData } from '@mart/shared'
import { sql } from 'drizzle-orm'
import { orders, products, recipients } from './db/schema.ts'
import type { T } from './notify.ts'

type UserSnapshot = EventData<'user.registered'>

/** user.registered, user.updated, user.deleted: the directory entry as the event has it. */
export function rememberUser(t: T, u: UserSnapshot, eventId: string, deleted: boolean): void {
  const row = { username: u.username, email: u.email, role: u.role, active: !u.disabled && !deleted, eventId }
  t.db
    .insert(recipients)
    .values({ id: u.id, ...row })
    .onConflictDoUpdate({
      target: recipients.id,
      set: row,
      setWhere: sql`${recipients.eventId} < ${eventId}`,
    })
    .run()
}

export function rememberOrder(t: T, e: Event<'order.placed'> | Event<'order.awaiting_payment'>): void {
  const d = e.data
  const row = {
    userId: d.userId,
    number: d.number,
    totalAmount: d.total.amount,
    currency: d.total.currency,
    lines: JSON.stringify(d.lines),
  }
  t.db
    .insert(orders)
    .values({ id: d.orderId, ...row })
    .onConflictDoUpdate({ target: orders.id, set: row })
    .run()
}

export function rememberProduct(t: T, p: { id: string; name: string }, eventId: string): void {
  t.db
    .insert(products)
    .values({ id: p.id, name: p.name, eventId })
    .onConflictDoUpdate({
      target: products.id,
      set: { name: p.name, eventId },
      setWhere: sql`${products.eventId} < ${eventId}`,
    })
    .run()
}
