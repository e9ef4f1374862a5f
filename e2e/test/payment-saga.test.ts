// The saga with payment in it: the real user, product, inventory, order and payment services on one
// bus, the payment service talking to stripe-mock. A customer pays an unpaid order by card (Stripe's
// signed webhook settles it) or cash on delivery (an admin records the cash collected), an admin
// cancels a paid order (the money goes back through Stripe, the goods back on the shelf), and a
// second charge is given back without unpaying the order. Run on the in-process bus delivering
// every message twice and on real Kafka.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Bus, MemoryBus } from '@mart/shared'
import { describeKafka, describeStripeMock, kafkaTestBus, waitFor } from '@mart/shared/testing'
import { checkoutSession, stripeEnv, stripeEvent } from '../../payment/test/support.ts'
import { type Marketplace, marketplace, type PaymentView, type Person } from './support.ts'

/** The saga's inputs as the order's timeline shows them: type, outcome and the move. */
const steps = (m: Marketplace, id: string) =>
  m.timelineOf(id).then((items) => items.map((e) => [e.type, e.outcome, e.from, e.to]))

function suite(makeBus: () => Bus, stripeUrl: string) {
  let m: Marketplace
  let alice: Person

  beforeEach(async () => {
    m = await marketplace(makeBus(), { env: stripeEnv(stripeUrl) })
    alice = await m.customer('alice')
  }, 60_000)
  afterEach(() => m.stop(), 60_000)

  /** A lamp with `stock` units, ordered by alice (`quantity` of them) and unpaid: the order. */
  const unpaidOrder = async (stock: number, quantity: number) => {
    const lamp = await m.createLamp(stock, { amount: 2999, currency: 'EUR' })
    await m.orderable(lamp)
    const placed = await m.placeOrder(alice, [[lamp, quantity]])
    await m.waitForStatus(placed.id, 'unpaid', alice.token)
    await m.payable(placed.id)
    return { lamp, order: placed }
  }

  /** Stripe tells the payment service the payment's Checkout Session is paid: the webhook's answer. */
  const stripePaid = async (p: PaymentView) => {
    const event = await stripeEvent('checkout.session.completed', checkoutSession(p))
    const r = await m.stripeWebhook(event)
    expect(r.status).toBe(200)
    return { event, answer: r.body }
  }

  /** Pays the order by card through Stripe Checkout, to the end: the order paid, the hold committed. */
  const paidByCard = async (stock: number, quantity: number) => {
    const { lamp, order } = await unpaidOrder(stock, quantity)
    const payment = await m.payOrder(alice, order.id, 'stripe')
    await stripePaid(payment)
    await m.waitForStatus(order.id, 'paid', alice.token)
    await waitFor(() => m.holdOf(order.id) === 'committed', 'inventory to commit the hold', 30_000)
    return { lamp, order, payment }
  }

  test("card: a Checkout Session, Stripe's signed webhook -> the order paid and inventory commits the stock", async () => {
    const { lamp, order } = await unpaidOrder(5, 2)
    expect(order.total).toEqual({ amount: 5998, currency: 'EUR' })

    const payment = await m.payOrder(alice, order.id, 'stripe')
    expect(payment).toMatchObject({
      orderId: order.id,
      userId: alice.id,
      method: 'stripe',
      status: 'pending',
      amount: { amount: 5998, currency: 'EUR' },
    })
    expect(payment.stripeSessionId).toStartWith('cs_')
    expect(payment.checkoutUrl).toStartWith('https://')

    const { event, answer } = await stripePaid(payment)
    expect(answer).toEqual({ received: true, duplicate: false })
    // Stripe sends an event again when it is unsure we got it: nothing changes.
    const again = await m.stripeWebhook(event)
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ received: true, duplicate: true })

    const paid = await m.waitForStatus(order.id, 'paid', alice.token)
    expect(paid).toMatchObject({ payment: 'paid', expiresAt: null, outcome: null })
    expect(await m.paymentOf(payment.id, alice.token)).toMatchObject({ status: 'succeeded' })
    await waitFor(() => m.holdOf(order.id) === 'committed', 'inventory to commit the hold', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 3, reserved: 0, available: 3 })

    await waitFor(
      () => m.published('payment.succeeded', order.id)[0],
      'payment.succeeded on its topic',
      30_000,
    )
    const succeeded = m.published('payment.succeeded', order.id)
    expect(succeeded.map((e) => e.data)).toEqual([
      {
        paymentId: payment.id,
        orderId: order.id,
        userId: alice.id,
        method: 'stripe',
        amount: { amount: 5998, currency: 'EUR' },
      },
    ])
    await waitFor(() => m.published('order.paid', order.id)[0], 'order.paid', 30_000)
    expect(m.published('order.paid', order.id)).toHaveLength(1)
    expect(await steps(m, order.id)).toEqual([
      ['order.placed', 'moved', null, 'pending'],
      ['stock.reserved', 'moved', 'pending', 'unpaid'],
      ['payment.succeeded', 'moved', 'unpaid', 'paid'],
    ])
    expect((await m.timelineOf(order.id))[2]?.eventId).toBe(succeeded[0]?.id)
  }, 60_000)

  test('cash on delivery: confirmed, shipped, delivered, then the cash collected -> the order records it paid', async () => {
    const { lamp, order } = await unpaidOrder(5, 2)
    const payment = await m.payOrder(alice, order.id, 'cod')
    expect(payment).toMatchObject({ method: 'cod', status: 'cod_pending', stripeSessionId: null })

    const confirmed = await m.waitForStatus(order.id, 'confirmed', alice.token)
    expect(confirmed).toMatchObject({ payment: 'pending', expiresAt: null })

    const ship = await m.call('order', 'POST', `/api/orders/${order.id}/ship`, undefined, m.root)
    expect(ship.status).toBe(200)
    await waitFor(() => m.holdOf(order.id) === 'shipped', 'inventory to ship the hold', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 3, reserved: 0, available: 3 })
    const deliver = await m.call('order', 'POST', `/api/orders/${order.id}/deliver`, undefined, m.root)
    expect(deliver.status).toBe(200)
    expect(deliver.body).toMatchObject({ status: 'delivered', payment: 'pending' })

    // Only an admin records the cash.
    const path = `/api/payments/${payment.id}/collect`
    expect((await m.call('payment', 'POST', path, undefined, alice.token)).status).toBe(403)
    const collected = await m.call('payment', 'POST', path, undefined, m.root)
    expect(collected.status).toBe(200)
    expect(collected.body).toMatchObject({ status: 'succeeded' })
    expect((await m.call('payment', 'POST', path, undefined, m.root)).status).toBe(409)

    const after = await waitFor(
      async () => {
        const o = await m.orderOf(order.id, alice.token)
        return o.payment === 'paid' ? o : null
      },
      'the order to record the cash',
      30_000,
    )
    expect(after).toMatchObject({ status: 'delivered', payment: 'paid' })
    await waitFor(() => m.published('order.paid', order.id)[0], 'order.paid', 30_000)
    await waitFor(() => m.published('payment.succeeded', order.id)[0], 'payment.succeeded', 30_000)
    expect(m.published('payment.cod_selected', order.id)).toHaveLength(1)
    expect(m.published('payment.succeeded', order.id)).toHaveLength(1)
    expect(m.published('order.paid', order.id)).toHaveLength(1)
    // The parcel took the goods for good: nothing comes back, nothing leaves twice.
    expect(m.holdOf(order.id)).toBe('shipped')
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 3, reserved: 0, available: 3 })
    expect(await steps(m, order.id)).toEqual([
      ['order.placed', 'moved', null, 'pending'],
      ['stock.reserved', 'moved', 'pending', 'unpaid'],
      ['payment.cod_selected', 'moved', 'unpaid', 'confirmed'],
      ['order.ship', 'moved', 'confirmed', 'shipped'],
      ['order.deliver', 'moved', 'shipped', 'delivered'],
      ['payment.succeeded', 'moved', 'delivered', 'delivered'],
    ])
  }, 60_000)

  test('an admin cancels an order paid by card: Stripe refunds it, the payment and the order say refunded, the goods go back', async () => {
    const { lamp, order, payment } = await paidByCard(5, 2)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 3, reserved: 0, available: 3 })

    const path = `/api/orders/${order.id}/cancel`
    const cancelled = await m.call('order', 'POST', path, { reason: 'out of stock after all' }, m.root)
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      payment: 'paid',
      outcome: { kind: 'cancelled', by: 'admin', refundDue: true },
    })
    const announced = await waitFor(
      () => m.published('order.cancelled', order.id)[0],
      'order.cancelled',
      30_000,
    )
    expect(announced.data).toMatchObject({ by: 'admin', refundDue: true })

    // The stripe.refund job asks stripe-mock for the refund, and records it made.
    const refunded = await waitFor(
      async () => {
        const p = await m.paymentOf(payment.id, alice.token)
        return p.status === 'refunded' ? p : null
      },
      'the payment to be refunded',
      30_000,
    )
    expect(refunded.refunded).toEqual({ amount: 5998, currency: 'EUR' })
    const refundEvents = await waitFor(
      () => {
        const r = m.published('payment.refunded', order.id)
        return r.length > 0 ? r : null
      },
      'payment.refunded',
      30_000,
    )
    expect(refundEvents.map((e) => e.data)).toEqual([
      {
        paymentId: payment.id,
        orderId: order.id,
        userId: alice.id,
        amount: { amount: 5998, currency: 'EUR' },
        refundedTotal: { amount: 5998, currency: 'EUR' },
        reason: 'order_cancelled',
      },
    ])
    const jobs = m.query<{ state: string }>(
      'payment',
      "SELECT state FROM mart_jobs WHERE kind = 'stripe.refund'",
    )
    expect(jobs.map((j) => j.state)).toEqual(['done'])

    const after = await waitFor(
      async () => {
        const o = await m.orderOf(order.id, alice.token)
        return o.payment === 'refunded' ? o : null
      },
      'the order to record the refund',
      30_000,
    )
    expect(after).toMatchObject({ status: 'cancelled', payment: 'refunded' })

    await waitFor(() => m.holdOf(order.id) === 'restocked', 'inventory to restock', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 0, available: 5 })
    await waitFor(() => m.published('payment.refunded', order.id)[0], 'payment.refunded on its topic', 30_000)
    expect(m.published('payment.refunded', order.id)).toHaveLength(1)
    expect(await steps(m, order.id)).toEqual([
      ['order.placed', 'moved', null, 'pending'],
      ['stock.reserved', 'moved', 'pending', 'unpaid'],
      ['payment.succeeded', 'moved', 'unpaid', 'paid'],
      ['order.cancel', 'moved', 'paid', 'cancelled'],
      ['payment.refunded', 'moved', 'cancelled', 'cancelled'],
    ])
  }, 60_000)

  test('a second charge (a session Stripe said expired, paid after all) is refunded as a duplicate: the order stays paid, the goods leave once', async () => {
    const { lamp, order } = await unpaidOrder(5, 2)
    const first = await m.payOrder(alice, order.id, 'stripe')
    const expired = checkoutSession(first, { status: 'expired', payment_status: 'unpaid' })
    expect((await m.stripeWebhook(await stripeEvent('checkout.session.expired', expired))).status).toBe(200)
    expect(await m.paymentOf(first.id)).toMatchObject({ status: 'expired' })

    // The order is still unpaid: the customer pays again, in a session of its own.
    const second = await m.payOrder(alice, order.id, 'stripe')
    expect(second.id).not.toBe(first.id)
    await stripePaid(second)
    await m.waitForStatus(order.id, 'paid', alice.token)
    await stripePaid(first)

    const refunded = await waitFor(
      async () => {
        const p = await m.paymentOf(first.id)
        return p.status === 'refunded' ? p : null
      },
      'the second charge to be refunded',
      30_000,
    )
    expect(refunded.refunded).toEqual({ amount: 5998, currency: 'EUR' })
    expect(await m.paymentOf(second.id)).toMatchObject({ status: 'succeeded' })
    const timeline = await waitFor(
      async () => {
        const items = await m.timelineOf(order.id)
        return items.some((e) => e.type === 'payment.refunded') ? items : null
      },
      'the order to hear of the refund',
      30_000,
    )
    expect(timeline.slice(2).map((e) => [e.type, e.outcome, e.from, e.to])).toEqual([
      ['payment.succeeded', 'moved', 'unpaid', 'paid'],
      ['payment.succeeded', 'ignored', 'paid', 'paid'],
      ['payment.refunded', 'ignored', 'paid', 'paid'],
    ])
    expect(await m.orderOf(order.id, alice.token)).toMatchObject({ status: 'paid', payment: 'paid' })
    // The test's own reader of the topics runs beside the services: it may hear of it a moment later.
    await waitFor(
      () => m.published('payment.refunded', order.id).length > 0,
      'payment.refunded on its topic',
      30_000,
    )
    expect(m.published('payment.refunded', order.id).map((e) => e.data.reason)).toEqual(['duplicate'])
    expect(m.published('order.paid', order.id)).toHaveLength(1)
    await waitFor(() => m.holdOf(order.id) === 'committed', 'inventory to commit the hold', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 3, reserved: 0, available: 3 })
  }, 60_000)
}

describeStripeMock('the payment saga against stripe-mock', (stripeUrl) => {
  suite(() => new MemoryBus({ duplicateDelivery: true }), stripeUrl)

  describeKafka('over real Kafka', (brokers) => {
    suite(() => kafkaTestBus(brokers, 'e2e-payment'), stripeUrl)
  })
})
