import { ConfigError, serviceConfig } from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'

export const PaymentConfig = serviceConfig(8001, {
  /** Stripe's secret key (sk_test_... in test mode). Unset: Stripe payments answer 503; cash on delivery works. */
  STRIPE_SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** The webhook endpoint's signing secret (whsec_...); required in production when STRIPE_SECRET_KEY is set. */
  STRIPE_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  /** Another Stripe API than Stripe's own: stripe-mock (http://127.0.0.1:12111) in tests and offline. */
  STRIPE_API_URL: Type.Optional(Type.String({ pattern: '^https?://[^/]+/?$' })),
  /** Where customers reach Mart: Stripe sends them back to PUBLIC_URL/api/payments/stripe/success and /cancel. */
  PUBLIC_URL: Type.String({ pattern: '^https?://[^\\s]+[^/\\s]$', default: 'http://127.0.0.1:8000' }),
  /** How long past a session's expiry a payment Stripe has not settled is looked up at Stripe (reconciliation). */
  STRIPE_RECONCILE_AFTER_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
})

/** In production, a Stripe key without the webhook secret would take money it could never hear about. */
export function checkStripeConfig(config: Static<typeof PaymentConfig>): void {
  if (config.NODE_ENV === 'production' && config.STRIPE_SECRET_KEY && !config.STRIPE_WEBHOOK_SECRET) {
    throw new ConfigError('payment', [
      'STRIPE_WEBHOOK_SECRET: is required in production when STRIPE_SECRET_KEY is set (webhooks cannot be verified without it)',
    ])
  }
}
