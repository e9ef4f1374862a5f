// How notices refer to an order: by the number people read, and a link to it.
import type { NoticeContext } from './notice.ts'

/**
 * The order's number. Payment and stock events carry only its id; the number comes from
 * order.placed, which a late-started service may not have heard: then the id stands in.
 */
export const orderNumber = (ctx: NoticeContext, orderId: string): string =>
  ctx.order(orderId)?.number ?? orderId

/** Where the customer (or an admin) sees the order. */
export const orderUrl = (ctx: NoticeContext, orderId: string): string =>
  `${ctx.publicUrl}/api/orders/${encodeURIComponent(orderId)}`

/** How the customer paid, in words. */
export const methodWords = { stripe: 'by card (Stripe)', cod: 'in cash on delivery' } as const
