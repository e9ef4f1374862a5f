import type { Handlers } from '@mart/shared'
import type * as schema from './db/schema.ts'
import { inputOf } from './holds.ts'
import type { Reservations } from './reservations.ts'
import type { Stock } from './stock.ts'

/**
 * What inventory does with the events it consumes. Each runs in the transaction that records the
 * event in the inbox; the reason on stock.adjusted is the type of the event that caused it.
 */
export const handlers = (stock: Stock, holds: Reservations): Handlers<typeof schema> => ({
  'product.created': (e, t) => stock.create(t, e.data.id, e.data.initialStock ?? 0, e.type),
  'product.deleted': (e, t) => stock.discontinue(t, e.data.id),
  'order.placed': (e, t) => holds.apply(t, e.data.orderId, { input: 'placed', lines: e.data.lines }, e.type),
  'order.cancelled': (e, t) => holds.apply(t, e.data.orderId, { input: inputOf[e.type] }, e.type),
  'order.expired': (e, t) => holds.apply(t, e.data.orderId, { input: inputOf[e.type] }, e.type),
  'order.rejected': (e, t) => holds.apply(t, e.data.orderId, { input: inputOf[e.type] }, e.type),
  // Each ships the hold: whichever comes first takes the goods off the shelf, the others find it done.
  'payment.succeeded': (e, t) => holds.apply(t, e.data.orderId, { input: inputOf[e.type] }, e.type),
  'order.paid': (e, t) => holds.apply(t, e.data.orderId, { input: inputOf[e.type] }, e.type),
  'order.shipped': (e, t) => holds.apply(t, e.data.orderId, { input: inputOf[e.type] }, e.type),
})
