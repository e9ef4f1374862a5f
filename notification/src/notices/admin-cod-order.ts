import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderNumber } from './refs.ts'

/** An order to deliver against cash: the courier collects the amount. */
export default defineNotice({
  name: 'admin-cod-order',
  trigger: 'payment.cod_selected',
  category: 'orders',
  audience: 'admins',
  about: (p) => p.orderId,
  write: (p, _to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const amount = money(p.amount.amount, p.amount.currency)
    return {
      title: `COD order ${number} to deliver: collect ${amount}`,
      text: `Order ${number} is to be delivered cash on delivery: collect ${amount} (payment ${p.paymentId}).\n`,
      html: html`<p>Order <strong>${number}</strong> is to be delivered cash on delivery: collect <strong>${amount}</strong> (payment ${p.paymentId}).</p>`,
    }
  },
})
