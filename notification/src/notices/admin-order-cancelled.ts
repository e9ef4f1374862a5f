import { html } from '../format.ts'
import { defineNotice } from './notice.ts'

/** The admins hear of every cancelled order, by whom, and whether a refund is due. */
export default defineNotice({
  name: 'admin-order-cancelled',
  trigger: 'order.cancelled',
  category: 'orders',
  audience: 'admins',
  about: (o) => o.orderId,
  write: (o) => {
    const by = o.by === 'admin' ? 'an admin' : 'the customer'
    const reason = o.reason.trim() || '(none given)'
    const refund = o.refundDue ? 'A refund is due.' : 'Nothing was paid.'
    return {
      title: `Order ${o.number} cancelled by ${by}`,
      text: `Order ${o.number} was cancelled by ${by}.\nReason: ${reason}\n${refund}\n`,
      html: html`<p>Order <strong>${o.number}</strong> was cancelled by ${by}.</p><p>Reason: ${reason}</p><p>${refund}</p>`,
    }
  },
})
