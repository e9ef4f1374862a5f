// The stripe-mock that `bun run test` starts (scripts/stripe-mock.sh) answers the official SDK the
// way the payment service will call it: over plain HTTP on 127.0.0.1, every request checked against
// Stripe's OpenAPI spec. stripe-mock keeps no state, so only the shape of answers is asserted.
import { expect, test } from 'bun:test'
import { describeStripeMock } from '@mart/shared/testing'
import Stripe from 'stripe'

describeStripeMock('stripe-mock with the stripe SDK', (url) => {
  const { hostname, port } = new URL(url)
  // No retries: a stripe-mock that is not there fails the test at once instead of after backoff.
  const stripe = new Stripe('sk_test_123', {
    host: hostname,
    port: Number(port),
    protocol: 'http',
    maxNetworkRetries: 0,
  })

  test('creates a Checkout Session', async () => {
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'payment',
        line_items: [
          {
            quantity: 2,
            price_data: { currency: 'eur', unit_amount: 1250, product_data: { name: 'Teapot' } },
          },
        ],
        client_reference_id: 'pay_1',
        success_url: 'http://127.0.0.1:8000/api/payments/stripe/success?session_id={CHECKOUT_SESSION_ID}',
        cancel_url: 'http://127.0.0.1:8000/api/payments/stripe/cancel?session_id={CHECKOUT_SESSION_ID}',
      },
      { idempotencyKey: 'checkout:pay_1' },
    )
    expect(session.lastResponse.statusCode).toBe(200)
    expect(session.id).toStartWith('cs_')
    expect(session.object).toBe('checkout.session')
    // Scalar parameters come back as sent.
    expect(session.client_reference_id).toBe('pay_1')
    expect(session.mode).toBe('payment')
  })

  test('a parameter off the spec is a StripeInvalidRequestError (400)', async () => {
    const error = await stripe.checkout.sessions
      .create({ mode: 'nonsense' as Stripe.Checkout.SessionCreateParams.Mode })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    expect((error as Stripe.errors.StripeInvalidRequestError).statusCode).toBe(400)
    expect((error as Error).message).toContain('Request validation error')
  })
})
