// Stripe's webhook: verify, record, then acknowledge. The signature is checked over the raw body
// before anything else; then, in one transaction, Stripe's event id goes into our inbox (a
// redelivery changes nothing), the event is applied and our events staged. Only once that commits
// does Stripe get its 2xx; if it fails, a 5xx makes Stripe send it again.
import { HttpProblem, type Logger, type Store, tx } from '@mart/shared'
import type * as schema from './db/schema.ts'
import { stripeEvents } from './db/schema.ts'
import type { PaymentBook, T } from './payments.ts'
import { failed, refundedAtStripe, settle } from './settle.ts'
import type { Session, StripeEvent, StripeGateway } from './stripe.ts'

export interface WebhookAnswer {
  received: true
  /** The same Stripe event was applied before: nothing changed. */
  duplicate: boolean
}

export class StripeWebhooks {
  constructor(
    private readonly store: Store<typeof schema>,
    private readonly book: PaymentBook,
    private readonly stripe: StripeGateway,
    private readonly log: Logger,
  ) {}

  async receive(rawBody: string, signature: string | null): Promise<WebhookAnswer> {
    const event = await this.stripe.verify(rawBody, signature)
    // Nothing of an unverified body is read, logged or stored.
    if (!event) throw new HttpProblem('bad-request', 'the Stripe-Signature does not verify for this body')
    return tx(this.store, (t) => {
      const fresh = t.db
        .insert(stripeEvents)
        .values({ id: event.id, type: event.type, receivedAt: Date.now() })
        .onConflictDoNothing()
        .run()
      if (fresh.changes === 0) return { received: true, duplicate: true }
      this.apply(t, event)
      return { received: true, duplicate: false }
    })
  }

  private apply(t: T, event: StripeEvent): void {
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
      case 'checkout.session.expired':
        settle(t, this.book, this.log, event.data.object as Session)
        return
      case 'checkout.session.async_payment_failed':
        failed(t, this.book, event.data.object as Session)
        return
      case 'charge.refunded':
        refundedAtStripe(t, this.book, this.log, event.data.object)
        return
      default:
        // Subscribed to more than we use, or a new type: acknowledged so Stripe stops sending it.
        this.log.info({ stripeEventId: event.id, type: event.type }, 'Stripe event not used: acknowledged')
    }
  }
}
