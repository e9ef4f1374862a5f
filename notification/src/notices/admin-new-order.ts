import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'

/** The admins hear of every order placed. */
export default defineNotice({
  name: 'admin-new-order',
  trigger: 'order.placed',
  category: 'orders',
  audience: 'admins',
  about: (o) => o.orderId,
  write: (o) => {
    const total = money(o.total.amount, o.total.currency)
    const items = o.lines.reduce((n, l) => n + l.quantity, 0)
    return {
      title: `New order ${o.number}: ${total}`,
      text: `Order ${o.number} was placed: ${items} item(s), ${total}.\n`,
      html: html`<p>Order <strong>${o.number}</strong> was placed: ${items} item(s), ${total}.</p>`,
    }
  },
})
