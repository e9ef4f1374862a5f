import { afterEach, describe, expect, test } from 'bun:test'
import { describeStripeMock } from '@mart/shared/testing'
import { type PaymentHarness, startPayment } from './support.ts'

let h: PaymentHarness
afterEach(() => h.stop())

describe('cash on delivery (no Stripe needed)', () => {
  test('records cod_pending, emits payment.cod_selected with the order total, 201', async () => {
    h = await startPayment()
    const alice = await h.person()
    const o = await h.order(alice.id)
    const res = await h.pay(alice, o.orderId, 'cod')
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      orderId: o.orderId,
      method: 'cod',
      status: 'cod_pending',
      amount: { amount: o.total, currency: 'EUR' },
    })
    expect(h.emitted('payment.cod_selected')).toEqual([
      {
        paymentId: res.body.id,
        orderId: o.orderId,
        userId: alice.id,
        amount: { amount: o.total, currency: 'EUR' },
      },
    ])
  })

  test('an admin collects the cash: payment.succeeded; collecting twice is a 409', async () => {
    h = await startPayment()
    const [alice, admin] = [await h.person(), await h.person('admin')]
    const o = await h.order(alice.id)
    const { body } = await h.pay(alice, o.orderId, 'cod')
    const collected = await h.call('POST', `/api/payments/${body.id}/collect`, { token: admin.token })
    expect(collected.body.status).toBe('succeeded')
    expect(h.emitted('payment.succeeded')).toMatchObject([
      { paymentId: body.id, method: 'cod', amount: { amount: o.total } },
    ])
    expect((await h.call('POST', `/api/payments/${body.id}/collect`, { token: admin.token })).status).toBe(
      409,
    )
    expect((await h.call('POST', `/api/payments/${body.id}/collect`, { token: alice.token })).status).toBe(
      403,
    )
  })

  test('a cash refund is made at once: payment.refunded, partial then the rest', async () => {
    h = await startPayment()
    const [alice, admin] = [await h.person(), await h.person('admin')]
    const o = await h.order(alice.id, { total: 5000 })
    const { body } = await h.pay(alice, o.orderId, 'cod')
    await h.call('POST', `/api/payments/${body.id}/collect`, { token: admin.token })
    const part = await h.call('POST', `/api/payments/${body.id}/refund`, {
      token: admin.token,
      body: { amount: 1500, reason: 'one item broken' },
    })
    expect([part.status, part.body.status, part.body.refunded.amount]).toEqual([200, 'succeeded', 1500])
    const tooMuch = await h.call('POST', `/api/payments/${body.id}/refund`, {
      token: admin.token,
      body: { amount: 3501 },
    })
    expect(tooMuch.status).toBe(422)
    const rest = await h.call('POST', `/api/payments/${body.id}/refund`, { token: admin.token })
    expect([rest.body.status, rest.body.refunded.amount]).toEqual(['refunded', 5000])
    expect(
      h.emitted('payment.refunded').map((r) => [r.amount.amount, r.refundedTotal?.amount, r.reason]),
    ).toEqual([
      [1500, 1500, 'requested'],
      [3500, 5000, 'requested'],
    ])
  })

  test("someone else's order is a 404; an order not unpaid is a 409 with its state", async () => {
    h = await startPayment()
    const [alice, bob] = [await h.person(), await h.person()]
    const o = await h.order(alice.id)
    expect((await h.pay(bob, o.orderId, 'cod')).status).toBe(404)
    expect((await h.pay(alice, 'unknown-order', 'cod')).status).toBe(404)
    const pending = await h.order(alice.id, { unpaid: false })
    const res = await h.pay(alice, pending.orderId, 'cod')
    expect([res.status, res.body.detail]).toEqual([
      409,
      'the order is pending: only an unpaid order can be paid',
    ])
  })

  test('the amount is never the client’s: an amount in the body is a 422', async () => {
    h = await startPayment()
    const alice = await h.person()
    const o = await h.order(alice.id)
    const res = await h.call('POST', '/api/payments', {
      token: alice.token,
      body: { orderId: o.orderId, method: 'cod', amount: 1 },
    })
    expect(res.status).toBe(422)
    expect(h.emitted('payment.cod_selected')).toEqual([])
  })

  test('Stripe not configured: 503 stripe-unavailable, nothing recorded; cash on delivery still works', async () => {
    h = await startPayment()
    const alice = await h.person()
    const o = await h.order(alice.id)
    const res = await h.pay(alice, o.orderId, 'stripe')
    expect(res.status).toBe(503)
    expect(res.body.type).toBe('urn:mart:problem:stripe-unavailable')
    expect(h.svc.store.sqlite.prepare('SELECT count(*) AS n FROM payments').get()).toEqual({ n: 0 })
    expect((await h.pay(alice, o.orderId, 'cod')).status).toBe(201)
  })

  test('when the order ends, cash on delivery is no longer collected', async () => {
    h = await startPayment()
    const [alice, admin] = [await h.person(), await h.person('admin')]
    const o = await h.order(alice.id)
    const { body } = await h.pay(alice, o.orderId, 'cod')
    await h.apply([
      'order.cancelled',
      { ...o, by: 'user', actorId: alice.id, reason: '', refundDue: false },
      o.orderId,
    ])
    expect(h.row(body.id)?.status).toBe('expired')
    expect((await h.call('POST', `/api/payments/${body.id}/collect`, { token: admin.token })).status).toBe(
      409,
    )
  })
})

describeStripeMock('Stripe Checkout against stripe-mock', (stripeUrl) => {
  test('creates a Checkout Session: 201 with checkoutUrl and the session id, state pending, reconciliation scheduled', async () => {
    h = await startPayment({ stripeUrl })
    const alice = await h.person()
    const o = await h.order(alice.id)
    const res = await h.pay(alice, o.orderId, 'stripe')
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      method: 'stripe',
      status: 'pending',
      amount: { amount: o.total, currency: 'EUR' },
    })
    expect(res.body.checkoutUrl).toStartWith('https://checkout.stripe.com/')
    expect(res.body.stripeSessionId).toStartWith('cs_')
    expect(h.jobs('stripe.reconcile')).toEqual([{ key: res.body.id, state: 'scheduled' }])
  })

  test('a second request answers the open payment again (200), not a second session', async () => {
    h = await startPayment({ stripeUrl })
    const alice = await h.person()
    const o = await h.order(alice.id)
    const first = await h.pay(alice, o.orderId, 'stripe')
    const again = await h.pay(alice, o.orderId, 'stripe')
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(first.body.id)
    expect((await h.pay(alice, o.orderId, 'cod')).status).toBe(409)
  })

  test('?redirect=true answers 303 to the checkout page', async () => {
    h = await startPayment({ stripeUrl })
    const alice = await h.person()
    const o = await h.order(alice.id)
    const res = await h.pay(alice, o.orderId, 'stripe', {}, '?redirect=true')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(res.body.checkoutUrl)
  })

  test('Idempotency-Key: the same key replays the first answer', async () => {
    h = await startPayment({ stripeUrl })
    const alice = await h.person()
    const o = await h.order(alice.id)
    const key = { 'idempotency-key': 'pay-1' }
    const first = await h.pay(alice, o.orderId, 'stripe', key)
    const again = await h.pay(alice, o.orderId, 'stripe', key)
    expect(again.status).toBe(201)
    expect(again.text).toBe(first.text)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect((await h.pay(alice, o.orderId, 'cod', key)).status).toBe(422)
  })

  test('a payment left `creating` by a crash before Stripe answered is completed by the next request', async () => {
    h = await startPayment({ stripeUrl })
    const alice = await h.person()
    const o = await h.order(alice.id)
    // What a kill -9 between the first transaction and Stripe's answer leaves behind.
    const id = Bun.randomUUIDv7()
    h.svc.store.sqlite
      .prepare(
        "INSERT INTO payments (id, order_id, user_id, method, status, amount, currency, created_at, updated_at) VALUES (?, ?, ?, 'stripe', 'creating', ?, 'EUR', 0, 0)",
      )
      .run(id, o.orderId, alice.id, o.total)
    const res = await h.pay(alice, o.orderId, 'stripe')
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ id, status: 'pending' })
    expect(res.body.stripeSessionId).toStartWith('cs_')
  })

  test('Stripe down: 503, and nothing is left half-done', async () => {
    h = await startPayment({ stripeUrl: 'http://127.0.0.1:9' })
    const alice = await h.person()
    const o = await h.order(alice.id)
    const res = await h.pay(alice, o.orderId, 'stripe')
    expect([res.status, res.body.type]).toEqual([503, 'urn:mart:problem:stripe-unavailable'])
    expect(h.svc.store.sqlite.prepare('SELECT count(*) AS n FROM payments').get()).toEqual({ n: 0 })
  })
})
