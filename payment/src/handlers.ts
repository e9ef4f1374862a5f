// What payment does with order.events: keeps its read model of orders, and when an order ends,
// makes sure nobody can still pay for it (open sessions are expired at Stripe by a job; cash on
// delivery is no longer collected) and that money it took goes back when the order says so.
import type { Handlers } from '@mart/shared'
import type * as schema from './db/schema.ts'
import { moveOrder, type OrderState, recordOrder } from './orders.ts'
import { EXPIRE_SESSION_JOB, type PaymentBook, type T } from './payments.ts'

export function handlers(book: PaymentBook): Handlers<typeof schema> {
  /** The order ended: open sessions expire, cash is not collected, and a refund due is made. */
  const ended = (t: T, orderId: string, state: OrderState, refundDue = false) => {
    moveOrder(t, orderId, state)
    for (const p of book.openOf(t, orderId, ['creating', 'pending', 'cod_pending'])) {
      if (p.method === 'cod') book.apply(t, p, 'expired')
      else t.schedule(EXPIRE_SESSION_JOB, { key: p.id })
    }
    if (!refundDue) return
    for (const p of book.openOf(t, orderId, ['succeeded', 'needs_review'])) {
      const left = p.amount - p.refundedAmount
      if (left > 0)
        book.requestRefund(t, p, left, 'order_cancelled', 'the order was cancelled with a refund due')
    }
  }

  return {
    'order.placed': (e, t) => recordOrder(t, e),
    'order.awaiting_payment': (e, t) => recordOrder(t, e),
    'order.confirmed': (e, t) => void moveOrder(t, e.data.orderId, 'confirmed'),
    'order.paid': (e, t) => void moveOrder(t, e.data.orderId, 'paid'),
    'order.cancelled': (e, t) => ended(t, e.data.orderId, 'cancelled', e.data.refundDue),
    'order.expired': (e, t) => ended(t, e.data.orderId, 'expired'),
    'order.rejected': (e, t) => ended(t, e.data.orderId, 'rejected'),
  }
}
