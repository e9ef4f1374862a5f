import { html } from '../format.ts'
import { defineNotice } from './notice.ts'

/** The reservation ran out before payment. Money arriving after that is refunded by payment. */
export default defineNotice({
  name: 'order-expired',
  trigger: 'order.expired',
  category: 'orders',
  audience: 'user',
  about: (o) => o.orderId,
  write: (o, to) => {
    const refund = 'If a payment for it still goes through, it will be refunded automatically.'
    return {
      title: `Order ${o.number} expired`,
      text:
        `Hello ${to.username},\n\nyour order ${o.number} was not paid in time, so it expired and the ` +
        `reserved items went back on the shelf.\n\n${refund}\n`,
      html: html`<p>Hello ${to.username},</p><p>your order <strong>${o.number}</strong> was not paid in time, so it expired and the reserved items went back on the shelf.</p><p>${refund}</p>`,
    }
  },
})
