// The catalogue as orders see it, from product.events: the only source of names and prices an
// order is placed with. A client's body never prices anything.
import type { EventData } from '@mart/shared'
import { sql } from 'drizzle-orm'
import { products } from './db/schema.ts'
import type { T } from './saga.ts'

type Snapshot = EventData<'product.updated'> | EventData<'product.created'>

/**
 * Records the product as the event says. Event ids are uuid v7, ordered by time: an older event
 * (a dead letter redriven late) does not overwrite a newer one.
 */
export function remember(t: T, p: Snapshot, eventId: string): void {
  const row = {
    name: p.name,
    priceAmount: p.price.amount,
    currency: p.price.currency,
    orderable: p.active,
    eventId,
  }
  t.db
    .insert(products)
    .values({ id: p.id, ...row })
    .onConflictDoUpdate({ target: products.id, set: row, setWhere: sql`${products.eventId} < ${eventId}` })
    .run()
}

/** The product can no longer be ordered; orders already placed keep their lines. */
export function forget(t: T, productId: string, eventId: string): void {
  t.db
    .update(products)
    .set({ orderable: false, eventId })
    .where(sql`${products.id} = ${productId} AND ${products.eventId} < ${eventId}`)
    .run()
}
