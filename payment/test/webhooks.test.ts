import { afterEach, beforeEach, expect, test } from 'bun:test'
import { describeStripeMock, waitFor } from '@mart/shared/testing'
import type { PaymentView } from '../src/view.ts'
import { type PaymentHarness, startPayment } from './support.ts'

let h: PaymentHarness
afterEach(() => h.stop())

describeStripeMock("Stripe's webhook", (stripeUrl) => {
  let alice: Awaited<ReturnType<PaymentHarness['person']>>
  let payment: PaymentView
  let order: Awaited<ReturnType<PaymentHarness['order']>>
  beforeEach(async () => {
    h = await startPayment({ stripeUrl })
    alice = await h.person()
    order = await h.order(alice.id)
    payment = (await h.pay(alice, order.orderId, 'stripe')).body as PaymentView
  })

  const completed = (over: Record<string, unknown> = {}) =>
    h.stripeEvent('checkout.session.completed', h.session(payment, over))

  test('checkout.session.completed, paid: succeeded and payment.succeeded with the order total', async () => {
    const res = await h.webhook(await completed())
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ received: true, duplicate: false })
    expect(h.row(payment.id)?.status).toBe('succeeded')
    expect(h.emitted('payment.succeeded')).toEqual([
      {
        paymentId: payment.id,
        orderId: order.orderId,
        userId: alice.id,
        method: 'stripe',
        amount: { amount: order.total, currency: 'EUR' },
      },
    ])
  })

  test('a bad signature, a stale timestamp, a tampered body or none: 400 and nothing changed', async () => {
    const good = await completed()
    const stale = await h.stripeEvent('checkout.session.completed', h.session(payment), {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    })
    const wrongSecret = await h.stripeEvent('checkout.session.completed', h.session(payment), {
      secret: 'whsec_other',
    })
    const attempts = [
      stale,
      wrongSecret,
      {
        payload: good.payload.replace(`"amount_total":${order.total}`, '"amount_total":1'),
        signature: good.signature,
      },
      { payload: good.payload, signature: '' },
    ]
    for (const a of attempts) {
      const res = await h.webhook(a)
      expect(res.status).toBe(400)
      expect(res.headers.get('content-type')).toStartWith('application/problem+json')
    }
    expect(h.row(payment.id)?.status).toBe('pending')
    expect(h.emitted('payment.succeeded')).toEqual([])
  })

  test('the same event twice, and ten times at once: applied once', async () => {
    const e = await completed()
    expect((await h.webhook(e)).body.duplicate).toBe(false)
    expect((await h.webhook(e)).body.duplicate).toBe(true)
    const e2 = await h.stripeEvent('charge.refunded', {
      payment_intent: h.session(payment).payment_intent,
      amount_refunded: 100,
    })
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.webhook(e2)))
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200))
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1)
    expect(h.emitted('payment.succeeded')).toHaveLength(1)
    expect(h.emitted('payment.refunded')).toMatchObject([{ amount: { amount: 100 }, reason: 'dashboard' }])
  })

  test('an amount or currency that is not the order’s: needs_review, payment.needs_review, still acknowledged', async () => {
    const res = await h.webhook(await completed({ amount_total: order.total - 1 }))
    expect(res.status).toBe(200)
    expect(h.row(payment.id)?.status).toBe('needs_review')
    expect(h.svc.store.sqlite.prepare('SELECT note FROM payments WHERE id = ?').get(payment.id)).toEqual({
      note: `Stripe took ${order.total - 1} EUR, the order is ${order.total} EUR`,
    })
    expect(h.emitted('payment.succeeded')).toEqual([])
    expect(h.emitted('payment.needs_review')).toMatchObject([
      {
        paymentId: payment.id,
        expected: { amount: order.total, currency: 'EUR' },
        received: { amount: order.total - 1, currency: 'EUR' },
      },
    ])
  })

  test('completed but unpaid (a delayed method): processing; then async_payment_failed: failed', async () => {
    await h.webhook(await completed({ payment_status: 'unpaid' }))
    expect(h.row(payment.id)?.status).toBe('processing')
    await h.webhook(
      await h.stripeEvent(
        'checkout.session.async_payment_failed',
        h.session(payment, { payment_status: 'unpaid' }),
      ),
    )
    expect(h.row(payment.id)?.status).toBe('failed')
    expect(h.emitted('payment.failed')).toHaveLength(1)
  })

  test('async_payment_succeeded after processing: succeeded', async () => {
    await h.webhook(await completed({ payment_status: 'unpaid' }))
    await h.webhook(await h.stripeEvent('checkout.session.async_payment_succeeded', h.session(payment)))
    expect(h.row(payment.id)?.status).toBe('succeeded')
  })

  test('expired: the order can be paid again; a late expiry never undoes a success', async () => {
    await h.webhook(
      await h.stripeEvent(
        'checkout.session.expired',
        h.session(payment, { status: 'expired', payment_status: 'unpaid' }),
      ),
    )
    expect(h.row(payment.id)?.status).toBe('expired')
    const second = (await h.pay(alice, order.orderId, 'stripe')).body as PaymentView
    expect(second.id).not.toBe(payment.id)
    await h.webhook(await h.stripeEvent('checkout.session.completed', h.session(second)))
    await h.webhook(await h.stripeEvent('checkout.session.expired', h.session(second, { status: 'expired' })))
    expect(h.row(second.id)?.status).toBe('succeeded')
  })

  test('a webhook whose transaction fails answers 5xx and records nothing: Stripe retries, and the retry applies it', async () => {
    // Fault injection: the payment's update fails inside the webhook's transaction.
    h.svc.store.sqlite.exec(
      "CREATE TRIGGER fail_payments BEFORE UPDATE ON payments BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
    )
    const e = await completed()
    const failed = await h.webhook(e)
    expect(failed.status).toBe(500)
    expect(failed.text).not.toContain('disk I/O error')
    expect(h.svc.store.sqlite.prepare('SELECT count(*) AS n FROM stripe_events').get()).toEqual({ n: 0 })
    h.svc.store.sqlite.exec('DROP TRIGGER fail_payments')
    expect((await h.webhook(e)).body).toEqual({ received: true, duplicate: false })
    expect(h.row(payment.id)?.status).toBe('succeeded')
  })

  test('a session we did not create: acknowledged, nothing changed', async () => {
    const res = await h.webhook(
      await h.stripeEvent('checkout.session.completed', {
        ...h.session(payment),
        id: 'cs_other',
        client_reference_id: 'nope',
      }),
    )
    expect(res.status).toBe(200)
    expect(h.row(payment.id)?.status).toBe('pending')
  })

  test('money for an order that was cancelled meanwhile is refunded automatically', async () => {
    await h.apply([
      'order.cancelled',
      { ...order, by: 'user', actorId: alice.id, reason: '', refundDue: false },
      order.orderId,
    ])
    await waitFor(() => h.row(payment.id)?.status === 'expired', 'the session expired at Stripe', 10_000)
    // The customer paid as we expired the session: the money is taken, and given back.
    await h.webhook(await completed())
    expect(h.emitted('payment.succeeded')).toHaveLength(1)
    await waitFor(() => h.row(payment.id)?.status === 'refunded', 'the automatic refund', 10_000)
    expect(h.emitted('payment.refunded')).toMatchObject([
      { paymentId: payment.id, amount: { amount: order.total }, reason: 'order_ended' },
    ])
  })

  test('an admin refunds part at Stripe (202, then payment.refunded), then the rest', async () => {
    const admin = await h.person('admin')
    await h.webhook(await completed())
    const part = await h.call('POST', `/api/payments/${payment.id}/refund`, {
      token: admin.token,
      body: { amount: 1000 },
    })
    expect(part.status).toBe(202)
    await waitFor(() => h.emitted('payment.refunded').length === 1, 'the refund at Stripe', 10_000)
    await h.call('POST', `/api/payments/${payment.id}/refund`, { token: admin.token })
    await waitFor(() => h.row(payment.id)?.status === 'refunded', 'the rest refunded', 10_000)
    expect(h.emitted('payment.refunded').map((r) => [r.amount.amount, r.refundedTotal?.amount])).toEqual([
      [1000, 1000],
      [order.total - 1000, order.total],
    ])
  })

  test('the success page settles from Stripe; the webhook after it changes nothing', async () => {
    // stripe-mock answers a fixture session (not paid): the page says the payment has not arrived.
    const page = await h.call('GET', `/api/payments/stripe/success?session_id=${payment.stripeSessionId}`, {
      headers: { accept: 'application/json' },
    })
    expect(page.status).toBe(200)
    expect(page.body).toMatchObject({ paymentId: payment.id, orderStatus: 'unpaid' })
    await h.webhook(await completed())
    await h.webhook(await completed())
    expect(h.emitted('payment.succeeded')).toHaveLength(1)
    const html = await h.svc.app.handle(
      new Request(
        `http://payment.mart.test/api/payments/stripe/success?session_id=${payment.stripeSessionId}`,
      ),
    )
    expect(html.headers.get('content-type')).toStartWith('text/html')
    expect(await html.text()).toContain('your payment was received')
  })

  test('when the order ends, its open session is expired at Stripe by a job', async () => {
    await h.apply([
      'order.expired',
      { orderId: order.orderId, userId: alice.id, number: order.number },
      order.orderId,
    ])
    await waitFor(() => h.row(payment.id)?.status === 'expired', 'the session expired', 10_000)
    expect(h.jobs('stripe.expire_session')).toEqual([{ key: payment.id, state: 'done' }])
  })
})
