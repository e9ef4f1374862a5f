import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'

/** The order was cancelled (by the customer or an admin), and whether money comes back. */
export default defineNotice({
  name: 'order-cancelled',
  trigger: 'order.cancelled',
  category: 'orders',
  audience: 'user',
  about: (o) => o.orderId,
  write: (o, to, ctx) => {
    const order = ctx.order(o.orderId)
    const who = o.by === 'admin' ? 'We cancelled' : 'You cancelled'
    const reason = o.reason.trim()
    const paid = order ? money(order.totalAmount, order.currency) : 'the amount'
    const refund = o.refundDue
      ? `You paid for it: ${paid} will be refunded, and we will tell you when it is.`
      : 'You were not charged for it.'
    return {
      title: `Order ${o.number} cancelled`,
      text:
        `Hello ${to.username},\n\n${who} your order ${o.number}.` +
        `${reason ? `\nReason: ${reason}` : ''}\n\n${refund}\n`,
      html:
        html`<p>Hello ${to.username},</p><p>${who} your order <strong>${o.number}</strong>.</p>` +
        (reason ? html`<p>Reason: ${reason}</p>` : '') +
        html`<p>${refund}</p>`,
    }
  },
})
