import { html } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderUrl } from './refs.ts'

/** The order left the warehouse. */
export default defineNotice({
  name: 'order-shipped',
  trigger: 'order.shipped',
  category: 'orders',
  audience: 'user',
  about: (o) => o.orderId,
  write: (o, to, ctx) => {
    const url = orderUrl(ctx, o.orderId)
    return {
      title: `Order ${o.number} shipped`,
      text: `Hello ${to.username},\n\nyour order ${o.number} is on its way.\n\nYour order: ${url}\n`,
      html: html`<p>Hello ${to.username},</p><p>your order <strong>${o.number}</strong> is on its way.</p><p><a href="${url}">Your order</a></p>`,
    }
  },
})
