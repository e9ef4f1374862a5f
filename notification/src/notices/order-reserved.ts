import { dateTime, html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderUrl } from './refs.ts'

/** Every line is reserved: the customer can pay, and until when. */
export default defineNotice({
  name: 'order-reserved',
  trigger: 'order.awaiting_payment',
  category: 'orders',
  audience: 'user',
  about: (o) => o.orderId,
  write: (o, to, ctx) => {
    const total = money(o.total.amount, o.total.currency)
    const until = dateTime(o.expiresAt)
    const url = orderUrl(ctx, o.orderId)
    const pay = `${ctx.publicUrl}/api/payments`
    const body = `{"orderId": "${o.orderId}", "method": "stripe"}`
    return {
      title: `Order ${o.number} reserved: pay ${total} by ${until}`,
      text:
        `Hello ${to.username},\n\nevery item of your order ${o.number} is reserved for you. ` +
        `Please pay ${total} by ${until}; after that the reservation ends and the order expires.\n\n` +
        `Your order: ${url}\nTo pay, POST ${pay} with ${body} (or "method": "cod" to pay cash on delivery).\n`,
      html: html`<p>Hello ${to.username},</p><p>every item of your order <strong>${o.number}</strong> is reserved for you. Please pay <strong>${total}</strong> by <strong>${until}</strong>; after that the reservation ends and the order expires.</p><p><a href="${url}">Your order</a>. To pay, <code>POST ${pay}</code> with <code>${body}</code> (or <code>"method": "cod"</code> to pay cash on delivery).</p>`,
    }
  },
})
