import { html, money } from '../format.ts'
import { defineNotice } from './notice.ts'
import { orderNumber } from './refs.ts'

/** Money that does not match the order is held for an admin: what was expected, what came. */
export default defineNotice({
  name: 'admin-payment-review',
  trigger: 'payment.needs_review',
  category: 'review',
  audience: 'admins',
  about: (p) => p.orderId,
  write: (p, _to, ctx) => {
    const number = orderNumber(ctx, p.orderId)
    const expected = money(p.expected.amount, p.expected.currency)
    const received = p.received ? money(p.received.amount, p.received.currency) : 'nothing known'
    const url = `${ctx.publicUrl}/api/payments/${encodeURIComponent(p.paymentId)}`
    const held = 'It is held: neither succeeded nor refunded until an admin decides.'
    return {
      // Without money received it was a session nobody expected, not a wrong amount.
      title: `Payment for order ${number} needs review${p.received ? ' (amount mismatch)' : ''}`,
      text:
        `Payment ${p.paymentId} for order ${number} needs review: ${p.reason}\n` +
        `Expected ${expected}, received ${received}.\n${held}\n${url}\n`,
      html: html`<p>Payment <a href="${url}">${p.paymentId}</a> for order <strong>${number}</strong> needs review: ${p.reason}</p><p>Expected <strong>${expected}</strong>, received <strong>${received}</strong>.</p><p>${held}</p>`,
    }
  },
})
