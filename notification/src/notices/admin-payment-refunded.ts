import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderNumber } from './refs.ts'

/** The admins hear of every refund: how much, the total so far, and the reason code. */
export default defineNotice({
  name: 'admin-payment-refunded',
  trigger: 'payment.refunded',
  category: 'payments',
  audience: 'admins',
  about: (p) => p.orderId,
  write: (p, _to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const amount = money(p.amount.amount, p.amount.currency)
    const total = p.refundedTotal ? money(p.refundedTotal.amount, p.refundedTotal.currency) : amount
    const reason = p.reason ?? 'not given'
    return {
      title: `Refunded ${amount} for order ${number}`,
      text: `Payment ${p.paymentId} for order ${number}: ${amount} refunded (${total} so far). Reason: ${reason}.\n`,
      html: html`<p>Payment ${p.paymentId} for order <strong>${number}</strong>: <strong>${amount}</strong> refunded (${total} so far). Reason: ${reason}.</p>`,
    }
  },
})
