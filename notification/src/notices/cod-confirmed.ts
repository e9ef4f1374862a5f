import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderNumber } from './refs.ts'

/** The customer chose cash on delivery: what to have ready. */
export default defineNotice({
  name: 'cod-confirmed',
  trigger: 'payment.cod_selected',
  category: 'payments',
  audience: 'user',
  about: (p) => p.orderId,
  write: (p, to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const amount = money(p.amount.amount, p.amount.currency)
    return {
      title: `Cash on delivery confirmed for order ${number}`,
      text: `Hello ${to.username},\n\nyour order ${number} is confirmed: please have ${amount} in cash ready when it is delivered.\n`,
      html: html`<p>Hello ${to.username},</p><p>your order <strong>${number}</strong> is confirmed: please have <strong>${amount}</strong> in cash ready when it is delivered.</p>`,
    }
  },
})
