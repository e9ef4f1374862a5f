import type { Handlers } from '@mart/shared'
import type * as schema from './db/schema.ts'
import type { Stock } from './stock.ts'

/**
 * What inventory does with the events it consumes. Each runs in the transaction that records the
 * event in the inbox; the reason on stock.adjusted is the type of the event that caused it.
 */
export const handlers = (stock: Stock): Handlers<typeof schema> => ({
  'product.created': (e, t) => stock.create(t, e.data.id, e.data.initialStock ?? 0, e.type),
  'product.deleted': (e, t) => stock.discontinue(t, e.data.id),
  'order.placed': (e, t) => stock.place(t, e.data.orderId, e.data.lines, e.type),
  'order.cancelled': (e, t) => stock.release(t, e.data.orderId, e.type),
  'order.expired': (e, t) => stock.release(t, e.data.orderId, e.type),
  'order.rejected': (e, t) => stock.release(t, e.data.orderId, e.type),
  // Both announce the same payment; whichever comes second finds the order committed already.
  'payment.succeeded': (e, t) => stock.commit(t, e.data.orderId, e.type),
  'order.paid': (e, t) => stock.commit(t, e.data.orderId, e.type),
})
