import type { Event, EventType, Handlers } from '@mart/shared'
import { forget, remember } from './catalogue.ts'
import type * as schema from './db/schema.ts'
import type { Happening, OrderSaga } from './saga.ts'
import { inputOf } from './transitions.ts'

/** What the timeline records of a consumed event. */
const heard = (e: Event<keyof typeof inputOf & EventType>): Happening => ({
  input: inputOf[e.type],
  type: e.type,
  source: e.source,
  eventId: e.id,
  causationId: e.causationId,
})

/**
 * What the order service does with the events it consumes, each in the transaction that records
 * the event in the inbox: product.events into the catalogue it prices with, inventory's and
 * payment's answers into the saga.
 */
export const handlers = (saga: OrderSaga): Handlers<typeof schema> => ({
  'product.created': (e, t) => remember(t, e.data, e.id),
  'product.updated': (e, t) => remember(t, e.data, e.id),
  'product.deleted': (e, t) => forget(t, e.data.id, e.id),
  'stock.reserved': (e, t) => void saga.apply(t, e.data.orderId, heard(e)),
  'stock.rejected': (e, t) => void saga.apply(t, e.data.orderId, { ...heard(e), rejections: e.data.reasons }),
  'payment.cod_selected': (e, t) => void saga.apply(t, e.data.orderId, heard(e)),
  'payment.succeeded': (e, t) =>
    void saga.apply(t, e.data.orderId, { ...heard(e), paymentId: e.data.paymentId }),
  'payment.refunded': (e, t) => void saga.refunded(t, e.data, heard(e)),
})
