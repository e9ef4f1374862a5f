// A lost webhook never leaves an order unpaid: once its session should have ended, the payment is
// looked up at Stripe and settled. stripe-mock keeps no state (it answers a fixture session), so a
// thin layer in front of it answers the session as Stripe would once the customer paid: every
// request still goes to stripe-mock and is checked against Stripe's API there.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { describeStripeMock, waitFor } from '@mart/shared/testing'
import type { PaymentView } from '../src/view.ts'
import { type PaymentHarness, startPayment } from './support.ts'

let h: PaymentHarness
let layer: ReturnType<typeof Bun.serve>
/** What the layer says of each session id, over stripe-mock's answer. */
const sessions = new Map<string, Record<string, unknown>>()

afterEach(async () => {
  await h.stop()
  layer.stop(true)
  sessions.clear()
})

describeStripeMock('reconciliation', (stripeUrl) => {
  beforeEach(() => {
    layer = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(request) {
        const url = new URL(request.url)
        const upstream = await fetch(`${stripeUrl}${url.pathname}${url.search}`, {
          method: request.method,
          headers: request.headers,
          body: request.method === 'GET' ? undefined : await request.text(),
        })
        const id = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(url.pathname)?.[1]
        const over = id && request.method === 'GET' ? sessions.get(id) : undefined
        if (!over || !upstream.ok) return upstream
        return Response.json({ ...((await upstream.json()) as object), ...over, id })
      },
    })
  })

  /** Makes the payment's reconciliation due now, as if its session had expired minutes ago. */
  const dueNow = (paymentId: string) =>
    h.svc.store.sqlite
      .prepare("UPDATE mart_jobs SET run_at = ? WHERE kind = 'stripe.reconcile' AND key = ?")
      .run(Date.now(), paymentId)

  async function paidWithoutWebhook(over: Record<string, unknown>) {
    h = await startPayment({ stripeUrl: `http://127.0.0.1:${layer.port}` })
    const alice = await h.person()
    const order = await h.order(alice.id)
    const payment = (await h.pay(alice, order.orderId, 'stripe')).body as PaymentView
    sessions.set(payment.stripeSessionId as string, { ...h.session(payment), ...over })
    dueNow(payment.id)
    return { order, payment }
  }

  test('a paid session whose webhook never came is settled: succeeded, payment.succeeded once', async () => {
    const { payment, order } = await paidWithoutWebhook({})
    await waitFor(() => h.row(payment.id)?.status === 'succeeded', 'reconciliation to settle it', 10_000)
    expect(h.emitted('payment.succeeded')).toMatchObject([
      { paymentId: payment.id, amount: { amount: order.total } },
    ])
    expect(h.jobs('stripe.reconcile')).toEqual([{ key: payment.id, state: 'done' }])
    // The webhook, arriving at last, changes nothing.
    await h.webhook(await h.stripeEvent('checkout.session.completed', h.session(payment)))
    expect(h.emitted('payment.succeeded')).toHaveLength(1)
  })

  test('an expired session is recorded expired; the order can be paid again', async () => {
    const { payment } = await paidWithoutWebhook({ status: 'expired', payment_status: 'unpaid' })
    await waitFor(() => h.row(payment.id)?.status === 'expired', 'reconciliation to expire it', 10_000)
    expect(h.emitted('payment.succeeded')).toEqual([])
  })

  test('a session still open is asked again later, not settled', async () => {
    const { payment } = await paidWithoutWebhook({ status: 'open', payment_status: 'unpaid' })
    const retried = await waitFor(
      () => h.logLines().find((l) => l.kind === 'stripe.reconcile' && l.msg === 'job failed; retrying'),
      'the reconciliation to be retried',
      10_000,
    )
    expect(String(retried.error)).toContain('the session is open')
    expect(h.row(payment.id)?.status).toBe('pending')
    expect(h.jobs('stripe.reconcile')[0]?.state).toBe('scheduled')
  })

  test('the success page settles a paid session; the webhook after it changes nothing', async () => {
    const { payment } = await paidWithoutWebhook({})
    const page = await h.call('GET', `/api/payments/stripe/success?session_id=${payment.stripeSessionId}`, {
      headers: { accept: 'application/json' },
    })
    expect(page.body).toMatchObject({ paymentId: payment.id, paymentStatus: 'succeeded' })
    await h.webhook(await h.stripeEvent('checkout.session.completed', h.session(payment)))
    expect(h.emitted('payment.succeeded')).toHaveLength(1)
  })

  test('the webhook first, then the success page: still one payment.succeeded', async () => {
    const { payment } = await paidWithoutWebhook({})
    await h.webhook(await h.stripeEvent('checkout.session.completed', h.session(payment)))
    const page = await h.call('GET', `/api/payments/stripe/success?session_id=${payment.stripeSessionId}`, {
      headers: { accept: 'application/json' },
    })
    expect(page.body.paymentStatus).toBe('succeeded')
    expect(h.emitted('payment.succeeded')).toHaveLength(1)
  })

  test('a payment a webhook settled first is not asked about: no call to Stripe, no warning', async () => {
    const { payment } = await paidWithoutWebhook({})
    h.svc.store.sqlite
      .prepare("UPDATE mart_jobs SET run_at = ? WHERE kind = 'stripe.reconcile'")
      .run(Date.now() + 3_600_000)
    await h.webhook(await h.stripeEvent('checkout.session.completed', h.session(payment)))
    sessions.clear()
    dueNow(payment.id)
    await waitFor(
      () => h.jobs('stripe.reconcile')[0]?.state === 'done',
      'the reconciliation to finish',
      10_000,
    )
    expect(
      h.logLines().filter((l) => l.msg === 'payment input ignored: no transition from this state'),
    ).toEqual([])
    expect(h.emitted('payment.succeeded')).toHaveLength(1)
  })
})
