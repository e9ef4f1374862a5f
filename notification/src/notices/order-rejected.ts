import type { EventData } from '@mart/shared'
import { html, raw } from '../format.ts'
import { defineNotice, type NoticeContext } from './notice.ts'

type Rejection = EventData<'order.rejected'>['reasons'][number]

/** Why one line could not be reserved, in words. */
function why(r: Rejection): string {
  switch (r.reason) {
    case 'unknown_product':
      return 'is not in our catalogue'
    case 'discontinued':
      return 'is no longer sold'
    case 'insufficient_stock':
      return `you asked for ${r.requested}, ${r.available} available`
  }
}

/** The line's name as the order had it, else the catalogue's, else its id. */
const nameOf = (ctx: NoticeContext, orderId: string, productId: string) =>
  ctx.order(orderId)?.lines.find((l) => l.productId === productId)?.name ??
  ctx.productName(productId) ??
  productId

/** The order could not be reserved: per line, why. Nothing was reserved, nothing is to pay. */
export default defineNotice({
  name: 'order-rejected',
  trigger: 'order.rejected',
  category: 'orders',
  audience: 'user',
  about: (o) => o.orderId,
  write: (o, to, ctx) => {
    const lines = o.reasons.map((r) => `${nameOf(ctx, o.orderId, r.productId)}: ${why(r)}`)
    const intro = `we could not reserve every item of your order ${o.number}, so it cannot go ahead and there is nothing to pay.`
    return {
      title: `Order ${o.number} could not be reserved`,
      text: `Hello ${to.username},\n\n${intro}\n${lines.map((l) => `\n  ${l}`).join('')}\n`,
      html: html`<p>Hello ${to.username},</p><p>we could not reserve every item of your order <strong>${o.number}</strong>, so it cannot go ahead and there is nothing to pay.</p>${raw(
        lines.length ? html`<ul>${raw(lines.map((l) => html`<li>${l}</li>`).join(''))}</ul>` : '',
      )}`,
    }
  },
})
