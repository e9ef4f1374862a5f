// Every call the payment service makes to Stripe, in one place: the official SDK configured from
// PaymentConfig (Stripe itself, or stripe-mock through STRIPE_API_URL), and what a failure means
// to a client. Nothing here runs inside a SQLite transaction.
import { HttpProblem } from '@mart/shared'
import type { Static } from '@sinclair/typebox'
import Stripe from 'stripe'
import type { PaymentConfig } from './config.ts'

export type Session = Stripe.Checkout.Session
export type StripeEvent = Stripe.Event

/** Stripe accepts a Checkout Session expiring 30 minutes to 24 hours after its creation. */
export const SESSION_MIN_MS = 30 * 60_000
export const SESSION_MAX_MS = 24 * 3_600_000
/** Stripe's tolerance for a webhook's timestamp, in seconds. */
const WEBHOOK_TOLERANCE = 300

export interface SessionRequest {
  paymentId: string
  orderId: string
  orderNumber: string
  currency: string
  lines: { name: string; quantity: number; unitAmount: number }[]
  expiresAt: number
  successUrl: string
  cancelUrl: string
}

/** Stripe is down, refused us, or is not configured: a 503 the client may retry. */
export const stripeUnavailable = (detail: string) =>
  new HttpProblem('stripe-unavailable', detail, { headers: { 'retry-after': '30' } })

/** Whether an error means Stripe could not be reached or failed (retry), rather than refused the request. */
export const isTransient = (err: unknown) =>
  err instanceof Stripe.errors.StripeConnectionError ||
  err instanceof Stripe.errors.StripeAPIError ||
  err instanceof Stripe.errors.StripeRateLimitError ||
  (err instanceof Stripe.errors.StripeError && (err.statusCode ?? 0) >= 500)

export class StripeGateway {
  private readonly client: Stripe | null

  constructor(private readonly config: Static<typeof PaymentConfig>) {
    const key = config.STRIPE_SECRET_KEY
    if (!key) {
      this.client = null
      return
    }
    const api = config.STRIPE_API_URL ? new URL(config.STRIPE_API_URL) : null
    this.client = new Stripe(key, {
      maxNetworkRetries: 1,
      timeout: 10_000,
      ...(api && {
        host: api.hostname,
        port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)),
        protocol: api.protocol === 'https:' ? 'https' : 'http',
      }),
    })
  }

  get configured(): boolean {
    return this.client !== null
  }

  private stripe(): Stripe {
    if (!this.client)
      throw stripeUnavailable(
        'card payments are not set up here (no STRIPE_SECRET_KEY); cash on delivery works',
      )
    return this.client
  }

  /** A Checkout Session for the order's lines; the idempotency key makes a retry return the same session. */
  createSession(r: SessionRequest): Promise<Session> {
    const currency = r.currency.toLowerCase()
    return this.stripe().checkout.sessions.create(
      {
        mode: 'payment',
        line_items: r.lines.map((l) => ({
          quantity: l.quantity,
          price_data: { currency, unit_amount: l.unitAmount, product_data: { name: l.name } },
        })),
        client_reference_id: r.paymentId,
        metadata: { paymentId: r.paymentId, orderId: r.orderId, orderNumber: r.orderNumber },
        payment_intent_data: { metadata: { paymentId: r.paymentId, orderId: r.orderId } },
        expires_at: Math.floor(r.expiresAt / 1000),
        success_url: `${r.successUrl}?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${r.cancelUrl}?session_id={CHECKOUT_SESSION_ID}`,
      },
      { idempotencyKey: `checkout:${r.paymentId}` },
    )
  }

  retrieveSession(id: string): Promise<Session> {
    return this.stripe().checkout.sessions.retrieve(id)
  }

  expireSession(id: string, paymentId: string): Promise<Session> {
    return this.stripe().checkout.sessions.expire(id, {}, { idempotencyKey: `expire:${paymentId}` })
  }

  /** A refund of `amount` of the payment's charge; `refundId` is the idempotency key. */
  refund(
    paymentIntent: string,
    amount: number,
    refundId: string,
    reason?: 'duplicate' | 'requested_by_customer',
  ) {
    return this.stripe().refunds.create(
      { payment_intent: paymentIntent, amount, ...(reason && { reason }), metadata: { refundId } },
      { idempotencyKey: `refund:${refundId}` },
    )
  }

  /**
   * The event Stripe signed, or null when the signature does not verify (wrong secret, tampered
   * body, stale timestamp) or no webhook secret is set: the body is not trusted then.
   */
  async verify(rawBody: string, signature: string | null): Promise<StripeEvent | null> {
    const secret = this.config.STRIPE_WEBHOOK_SECRET
    if (!secret || !signature) return null
    try {
      // Under Bun the SDK's crypto is async only (see the notes): the async variant is the one that works.
      return await Stripe.webhooks.constructEventAsync(rawBody, signature, secret, WEBHOOK_TOLERANCE)
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError) return null
      throw err
    }
  }
}
