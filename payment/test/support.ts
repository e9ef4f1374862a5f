// The payment service in the shared harness, with what only its tests need: orders as the order
// service announces them, customers with tokens, and Stripe's webhooks signed as Stripe signs them.
import type { Bus, EventData } from '@mart/shared'
import { startHarness } from '@mart/shared/testing'
import Stripe from 'stripe'
import { definition } from '../src/index.ts'

export const WEBHOOK_SECRET = 'whsec_test_secret'

/** The settings that point the service at stripe-mock (`url`), or none: Stripe not configured. */
export const stripeEnv = (url: string | null): Record<string, string> =>
  url ? { STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_URL: url } : {}

/** A Stripe event of `type` about `object`, signed as Stripe signs it (timestamp: now, unless given). */
export async function stripeEvent(
  type: string,
  object: object,
  opts: { id?: string; timestamp?: number; secret?: string } = {},
) {
  const payload = JSON.stringify({
    id: opts.id ?? `evt_${crypto.randomUUID().replaceAll('-', '')}`,
    object: 'event',
    api_version: '2026-08-26.dahlia',
    created: Math.floor(Date.now() / 1000),
    type,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  })
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: opts.secret ?? WEBHOOK_SECRET,
    ...(opts.timestamp !== undefined && { timestamp: opts.timestamp }),
  })
  return { payload, signature }
}

/** A Checkout Session as Stripe reports it once paid, for the payment `p`, with `over` on top. */
export const checkoutSession = (
  p: { id: string; stripeSessionId: string | null; amount: { amount: number } },
  over: Record<string, unknown> = {},
) => ({
  id: p.stripeSessionId,
  object: 'checkout.session',
  client_reference_id: p.id,
  status: 'complete',
  payment_status: 'paid',
  amount_total: p.amount.amount,
  currency: 'eur',
  payment_intent: `pi_${p.id.replaceAll('-', '').slice(0, 24)}`,
  metadata: { paymentId: p.id },
  ...over,
})

export async function startPayment(
  opts: { bus?: Bus; env?: Record<string, string>; stripeUrl?: string | null } = {},
) {
  const h = await startHarness(definition, {
    ...opts,
    env: { ...stripeEnv(opts.stripeUrl ?? null), ...opts.env },
  })

  const person = async (role: 'user' | 'admin' = 'user') => {
    const id = crypto.randomUUID()
    return { id, role, token: await h.token(role, { sub: id }) }
  }

  /** An order as the order service announces it: placed, then (by default) awaiting payment. */
  async function order(
    userId: string,
    opts: { total?: number; unpaid?: boolean; expiresInMs?: number } = {},
  ) {
    const orderId = Bun.randomUUIDv7()
    const total = opts.total ?? 2 * 1999 + 250
    const ref = { orderId, userId, number: `MRT-${String(10_000 + Math.floor(Math.random() * 89_999))}` }
    const lines = [
      { productId: 'p1', name: 'Lamp', quantity: 2, unitPrice: { amount: 1999, currency: 'EUR' } },
      {
        productId: 'p2',
        name: 'Bulb',
        quantity: 1,
        unitPrice: { amount: total - 2 * 1999, currency: 'EUR' },
      },
    ]
    const placed: EventData<'order.placed'> = { ...ref, lines, total: { amount: total, currency: 'EUR' } }
    await h.apply(['order.placed', placed, orderId])
    if (opts.unpaid !== false) {
      const expiresAt = new Date(Date.now() + (opts.expiresInMs ?? 3_600_000)).toISOString()
      await h.apply(['order.awaiting_payment', { ...placed, expiresAt }, orderId])
    }
    return { ...ref, total }
  }

  const pay = (
    who: { token: string },
    orderId: string,
    method: 'stripe' | 'cod',
    headers: Record<string, string> = {},
    query = '',
  ) => h.call('POST', `/api/payments${query}`, { token: who.token, body: { orderId, method }, headers })

  const webhook = (e: { payload: string; signature: string }) =>
    h.call('POST', '/api/payments/webhooks/stripe', {
      rawJson: e.payload,
      headers: { 'stripe-signature': e.signature },
    })

  const row = (id: string) =>
    h.svc.store.sqlite
      .prepare('SELECT status, refunded_amount AS refunded FROM payments WHERE id = ?')
      .get(id) as { status: string; refunded: number } | undefined

  const jobs = (kind: string) =>
    h.svc.store.sqlite
      .prepare('SELECT key, state FROM mart_jobs WHERE kind = ? ORDER BY created_at')
      .all(kind) as {
      key: string
      state: string
    }[]

  const emitted = <T extends keyof import('@mart/shared').Catalog>(type: T) =>
    h
      .outbox()
      .filter((e) => e.type === type)
      .map((e) => e.data as EventData<T>)

  return { ...h, person, order, pay, stripeEvent, webhook, session: checkoutSession, row, jobs, emitted }
}

export type PaymentHarness = Awaited<ReturnType<typeof startPayment>>
