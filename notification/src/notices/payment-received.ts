import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { methodWords, orderNumber } from './refs.ts'

/** The customer's money arrived (by Stripe, or the cash the courier collected). */
export default defineNotice({
  name: 'payment-received',
  trigger: 'payment.succeeded',
  category: 'payments',
  audience: 'user',
  about: (p) => p.orderId,
  write: (p, to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const amount = money(p.amount.amount, p.amount.currency)
    const how = methodWords[p.method]
    return {
      title: `Payment received for order ${number}: ${amount}`,
      text: `Hello ${to.username},\n\nwe received your payment of ${amount} ${how} for order ${number}. Thank you!\n`,
      html: html`<p>Hello ${to.username},</p><p>we received your payment of <strong>${amount}</strong> ${how} for order <strong>${number}</strong>. Thank you!</p>`,
    }
  },
})
