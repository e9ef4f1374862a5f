import type { RefundReason } from '@mart/shared/events/enums'
import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderNumber } from './refs.ts'

/** Why the customer's money came back, in words (none for a refund made in Stripe's dashboard). */
const because: Record<RefundReason, string> = {
  requested: 'as requested',
  order_cancelled: 'because the order was cancelled',
  order_ended: 'because the payment arrived after the order had ended',
  duplicate: 'because the order had already been paid by another payment',
  dashboard: '',
}

/** Money went back to the customer: this time, so far, and why. */
export default defineNotice({
  name: 'payment-refunded',
  trigger: 'payment.refunded',
  category: 'payments',
  audience: 'user',
  about: (p) => p.orderId,
  write: (p, to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const amount = money(p.amount.amount, p.amount.currency)
    const why = p.reason ? because[p.reason] : ''
    const total =
      p.refundedTotal && p.refundedTotal.amount !== p.amount.amount
        ? `${money(p.refundedTotal.amount, p.refundedTotal.currency)} has been refunded for this payment so far.`
        : ''
    const arrives = 'It can take a few days to reach your account.'
    return {
      title: `Refund of ${amount} for order ${number}`,
      text:
        `Hello ${to.username},\n\nwe refunded ${amount} for order ${number}${why ? ` ${why}` : ''}.` +
        `${total ? ` ${total}` : ''}\n\n${arrives}\n`,
      html: html`<p>Hello ${to.username},</p><p>we refunded <strong>${amount}</strong> for order <strong>${number}</strong>${why ? ` ${why}` : ''}.${total ? ` ${total}` : ''}</p><p>${arrives}</p>`,
    }
  },
})
