import { html } from '../format.ts'
import { defineNotice } from './notice.ts'

/** A product's available stock fell to its threshold or below. */
export default defineNotice({
  name: 'admin-low-stock',
  trigger: 'stock.low',
  category: 'stock',
  audience: 'admins',
  about: (s) => s.productId,
  write: (s, _to, ctx) => {
    const name = ctx.productName(s.productId) ?? s.productId
    return {
      title: `Low stock: ${name} (${s.available} left)`,
      text: `${name} (${s.productId}) has ${s.available} available, at or below its threshold of ${s.lowStockThreshold}.\n`,
      html: html`<p><strong>${name}</strong> (${s.productId}) has <strong>${s.available}</strong> available, at or below its threshold of ${s.lowStockThreshold}.</p>`,
    }
  },
})
