import { html } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderNumber, orderUrl } from './refs.ts'

/** A payment attempt failed; the order stays payable while it is reserved. */
export default defineNotice({
  name: 'payment-failed',
  trigger: 'payment.failed',
  category: 'payments',
  audience: 'user',
  about: (p) => p.orderId,
  write: (p, to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const url = orderUrl(ctx, p.orderId)
    const reason = p.reason.trim()
    return {
      title: `Payment for order ${number} failed`,
      text:
        `Hello ${to.username},\n\nyour payment for order ${number} did not go through` +
        `${reason ? ` (${reason})` : ''}. Nothing was charged.\n\n` +
        `You can try again while the order is reserved: ${url}\n`,
      html: html`<p>Hello ${to.username},</p><p>your payment for order <strong>${number}</strong> did not go through${reason ? ` (${reason})` : ''}. Nothing was charged.</p><p>You can try again while <a href="${url}">the order</a> is reserved.</p>`,
    }
  },
})
