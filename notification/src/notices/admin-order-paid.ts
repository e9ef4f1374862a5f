import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { methodWords, orderNumber } from './refs.ts'

/** The admins hear of every payment received: the order can go out (or, for cash, is settled). */
export default defineNotice({
  name: 'admin-order-paid',
  trigger: 'payment.succeeded',
  category: 'payments',
  audience: 'admins',
  about: (p) => p.orderId,
  write: (p, _to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const amount = money(p.amount.amount, p.amount.currency)
    const how = methodWords[p.method]
    return {
      title: `Order ${number} paid: ${amount}`,
      text: `Order ${number} was paid: ${amount} ${how} (payment ${p.paymentId}).\n`,
      html: html`<p>Order <strong>${number}</strong> was paid: <strong>${amount}</strong> ${how} (payment ${p.paymentId}).</p>`,
    }
  },
})
