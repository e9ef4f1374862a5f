import { html } from '../format.ts'
import { defineNotice } from './notice.ts'

/** The order reached the customer. */
export default defineNotice({
  name: 'order-delivered',
  trigger: 'order.delivered',
  category: 'orders',
  audience: 'user',
  about: (o) => o.orderId,
  write: (o, to) => ({
    title: `Order ${o.number} delivered`,
    text: `Hello ${to.username},\n\nyour order ${o.number} was delivered. Thank you for shopping at Mart!\n`,
    html: html`<p>Hello ${to.username},</p><p>your order <strong>${o.number}</strong> was delivered. Thank you for shopping at Mart!</p>`,
  }),
})
