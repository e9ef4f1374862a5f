// Where Stripe sends the customer back. The success page does not wait for the webhook: it asks
// Stripe how the session stands and settles it the same way (whichever comes first wins; the
// other changes nothing). Both answer a small page, or JSON to `Accept: application/json`.
import { type Logger, type Store, tx } from '@mart/shared'
import type * as schema from './db/schema.ts'
import { orderIn } from './orders.ts'
import type { PaymentBook, PaymentRow } from './payments.ts'
import type { PaymentReads } from './reads.ts'
import { settle } from './settle.ts'
import { isTransient, type StripeGateway } from './stripe.ts'

export interface ReturnAnswer {
  paymentId: string | null
  paymentStatus: string | null
  orderId: string | null
  orderNumber: string | null
  orderStatus: string | null
  message: string
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

export function page(a: ReturnAnswer): string {
  const title = a.orderNumber ? `Order ${a.orderNumber}` : 'Payment'
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(a.message)}</p>${a.orderStatus ? `<p>Order status: <strong>${escapeHtml(a.orderStatus)}</strong></p>` : ''}</body></html>`
}

const MESSAGES: Record<string, string> = {
  succeeded: 'Thank you: your payment was received.',
  processing: 'Your payment is being processed; we will let you know when it clears.',
  pending: 'We have not received your payment yet.',
  creating: 'We have not received your payment yet.',
  expired: 'This checkout expired without a payment.',
  failed: 'The payment failed.',
  needs_review: 'Your payment is being reviewed.',
  refunded: 'This payment was refunded.',
}

export class ReturnPages {
  constructor(
    private readonly store: Store<typeof schema>,
    private readonly reads: PaymentReads,
    private readonly book: PaymentBook,
    private readonly stripe: StripeGateway,
    private readonly log: Logger,
  ) {}

  async success(sessionId: string): Promise<ReturnAnswer> {
    const known = this.reads.bySession(sessionId)
    if (!known) return this.answer(undefined, 'We do not know this checkout.')
    if (known.status === 'pending' || known.status === 'creating' || known.status === 'processing') {
      try {
        const session = await this.stripe.retrieveSession(sessionId)
        // What Stripe answers must be this session: the id is what we looked it up by.
        if (session.id === sessionId) tx(this.store, (t) => settle(t, this.book, this.log, session))
      } catch (err) {
        // The webhook or reconciliation settles it later; the page says what we know now.
        if (!isTransient(err)) throw err
        this.log.warn({ sessionId }, 'Stripe did not answer on the success page: the webhook will settle it')
      }
    }
    const now = this.reads.bySession(sessionId) as PaymentRow
    return this.answer(now, MESSAGES[now.status] ?? `The payment is ${now.status}.`)
  }

  cancel(sessionId: string): ReturnAnswer {
    const known = this.reads.bySession(sessionId)
    const message =
      known?.status === 'pending' ? 'You left the checkout: the order is waiting for payment.' : undefined
    return this.answer(
      known,
      message ?? (known ? (MESSAGES[known.status] ?? '') : 'We do not know this checkout.'),
    )
  }

  private answer(p: PaymentRow | undefined, message: string): ReturnAnswer {
    const order = p ? tx(this.store, (t) => orderIn(t.db, p.orderId)) : undefined
    return {
      paymentId: p?.id ?? null,
      paymentStatus: p?.status ?? null,
      orderId: p?.orderId ?? null,
      orderNumber: order?.number ?? null,
      orderStatus: order?.state ?? null,
      message,
    }
  }
}
