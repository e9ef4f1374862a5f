import { html, money, raw } from '../format.ts'
import { defineNotice } from './notice.ts'

/** The customer's order was placed: its number, lines and total. */
export default defineNotice({
  name: 'order-received',
  trigger: 'order.placed',
  category: 'orders',
  audience: 'user',
  about: (o) => o.orderId,
  write: (o, to) => {
    const lines = o.lines.map((l) => ({
      text: `${l.quantity} x ${l.name} at ${money(l.unitPrice.amount, l.unitPrice.currency)}`,
      total: money(l.unitPrice.amount * l.quantity, l.unitPrice.currency),
    }))
    const total = money(o.total.amount, o.total.currency)
    return {
      title: `Order ${o.number} received`,
      text:
        `Hello ${to.username},\n\nwe received your order ${o.number}:\n\n` +
        `${lines.map((l) => `  ${l.text}: ${l.total}`).join('\n')}\n\nTotal: ${total}\n\n` +
        'We are reserving the goods; you can pay as soon as they are.\n',
      html: html`<p>Hello ${to.username},</p><p>we received your order <strong>${o.number}</strong>:</p><ul>${raw(
        lines.map((l) => html`<li>${l.text}: ${l.total}</li>`).join(''),
      )}</ul><p>Total: <strong>${total}</strong></p><p>We are reserving the goods; you can pay as soon as they are.</p>`,
    }
  },
})
