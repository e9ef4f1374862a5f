// The order saga with the real services on one bus: a customer registered with the user service
// orders products from the catalogue, inventory holds or refuses the stock, and the order follows,
// through nothing but HTTP and events. Run on the in-process bus delivering every message twice
// (each handler must absorb the repeat) and on real Kafka.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Bus, MemoryBus } from '@mart/shared'
import { describeKafka, kafkaTestBus, waitFor } from '@mart/shared/testing'
import { type Marketplace, marketplace, type OrderView, type Person } from './support.ts'

/** The saga's inputs as the timeline shows them: type, outcome and the move. */
const steps = (m: Marketplace, id: string) =>
  m.timelineOf(id).then((items) => items.map((e) => [e.type, e.outcome, e.from, e.to]))

function suite(makeBus: () => Bus) {
  let m: Marketplace
  let alice: Person

  beforeEach(async () => {
    m = await marketplace(makeBus())
    alice = await m.customer('alice')
  }, 60_000)
  afterEach(() => m.stop(), 60_000)

  /** A product with `stock` units that inventory holds and the order service can price. */
  const inStock = async (stock: number, name = 'Lamp', amount = 2999) => {
    const id = await m.createLamp(stock, { amount, currency: 'EUR' }, name)
    await m.orderable(id)
    return id
  }

  /** payment.succeeded for the order, as the payment service would publish it. */
  const pay = (o: OrderView) =>
    m.publish(
      'payment.succeeded',
      { paymentId: `pay-${o.id}`, orderId: o.id, userId: o.userId, method: 'stripe', amount: o.total },
      o.id,
    )

  test('placed -> unpaid: inventory holds the lines and the order announces it is payable, for its total and until when', async () => {
    const lamp = await inStock(5)
    const placed = await m.placeOrder(alice, [[lamp, 2]])
    expect(placed).toMatchObject({
      status: 'pending',
      payment: 'none',
      total: { amount: 5998, currency: 'EUR' },
    })

    const unpaid = await m.waitForStatus(placed.id, 'unpaid', alice.token)
    expect(unpaid).toMatchObject({ payment: 'none', expiresAt: placed.expiresAt, outcome: null })
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 2, available: 3 })
    expect(m.holdOf(placed.id)).toBe('reserved')

    const awaiting = await waitFor(
      () => m.published('order.awaiting_payment', placed.id)[0],
      'order.awaiting_payment',
      30_000,
    )
    expect(awaiting.data).toEqual({
      orderId: placed.id,
      userId: alice.id,
      number: placed.number,
      lines: [{ productId: lamp, name: 'Lamp', quantity: 2, unitPrice: { amount: 2999, currency: 'EUR' } }],
      total: { amount: 5998, currency: 'EUR' },
      expiresAt: placed.expiresAt as string,
    })
    // Each event once, though every message reached every handler twice on the memory bus.
    expect(m.published('order.placed', placed.id)).toHaveLength(1)
    // The test's topic reader follows each topic on its own: inventory's may come a moment later.
    await waitFor(() => m.published('stock.reserved', placed.id)[0], 'stock.reserved on its topic', 30_000)
    expect(m.published('stock.reserved', placed.id)).toHaveLength(1)
    expect(m.published('order.awaiting_payment', placed.id)).toHaveLength(1)
    expect(await steps(m, placed.id)).toEqual([
      ['order.placed', 'moved', null, 'pending'],
      ['stock.reserved', 'moved', 'pending', 'unpaid'],
    ])
  }, 30_000)

  test('insufficient stock -> rejected with the reason per refused line, and nothing reserved', async () => {
    const lamp = await inStock(5)
    const bulb = await inStock(1, 'Bulb', 450)
    const placed = await m.placeOrder(alice, [
      [lamp, 2],
      [bulb, 3],
    ])

    const rejected = await m.waitForStatus(placed.id, 'rejected', alice.token)
    const reasons = [{ productId: bulb, reason: 'insufficient_stock' as const, requested: 3, available: 1 }]
    expect(rejected).toMatchObject({ expiresAt: null, outcome: { kind: 'rejected', reasons } })
    const announced = await waitFor(
      () => m.published('order.rejected', placed.id)[0],
      'order.rejected',
      30_000,
    )
    expect(announced.data.reasons).toEqual(reasons)

    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 0, available: 5, reservations: [] })
    expect(await m.stockOf(bulb)).toMatchObject({ onHand: 1, reserved: 0, available: 1, reservations: [] })
    expect(m.holdOf(placed.id)).toBe('rejected')
    expect(m.published('stock.reserved', placed.id)).toEqual([])
    expect(m.published('order.awaiting_payment', placed.id)).toEqual([])
  }, 30_000)

  test('the customer cancels an unpaid order: cancelled, and inventory releases what it held', async () => {
    const lamp = await inStock(5)
    const placed = await m.placeOrder(alice, [[lamp, 3]])
    await m.waitForStatus(placed.id, 'unpaid', alice.token)
    expect((await m.stockOf(lamp))?.reserved).toBe(3)

    const path = `/api/orders/${placed.id}/cancel`
    const cancelled = await m.call('order', 'POST', path, { reason: 'changed my mind' }, alice.token)
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      payment: 'none',
      expiresAt: null,
      outcome: { kind: 'cancelled', by: 'user', reason: 'changed my mind', refundDue: false },
    })
    // Once ended, it stays ended.
    const again = await m.call('order', 'POST', path, {}, alice.token)
    expect(again.status).toBe(409)
    expect(again.body.detail).toContain('cancelled')

    await waitFor(
      async () => (await m.stockOf(lamp))?.reserved === 0,
      'inventory to release the hold',
      30_000,
    )
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 0, available: 5, reservations: [] })
    expect(m.holdOf(placed.id)).toBe('released')
    const announced = await waitFor(
      () => m.published('order.cancelled', placed.id)[0],
      'order.cancelled',
      30_000,
    )
    expect(announced.data).toMatchObject({ by: 'user', actorId: alice.id, refundDue: false })
    const released = await waitFor(
      () => m.published('stock.released', placed.id)[0],
      'stock.released',
      30_000,
    )
    expect(released.data.lines).toEqual([{ productId: lamp, quantity: 3 }])
  }, 30_000)

  test('an order not paid in time expires, and inventory releases what it held', async () => {
    await m.restart('order', { ORDER_RESERVATION_TTL_SECONDS: '1' })
    const lamp = await inStock(5)
    const placed = await m.placeOrder(alice, [[lamp, 2]])

    const expired = await m.waitForStatus(placed.id, 'expired', alice.token)
    expect(expired).toMatchObject({ payment: 'none', expiresAt: null, outcome: { kind: 'expired' } })
    await waitFor(() => m.published('order.expired', placed.id)[0], 'order.expired', 30_000)
    await waitFor(() => m.holdOf(placed.id) === 'released', 'inventory to release the hold', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 0, available: 5, reservations: [] })
    const last = (await m.timelineOf(placed.id)).at(-1)
    expect(last).toMatchObject({ type: 'order.expire', source: 'order', outcome: 'moved', to: 'expired' })
  }, 30_000)

  test("payment overtakes inventory's answer: the order ends paid, inventory commits, the timeline shows every input", async () => {
    const lamp = await inStock(5)
    // Inventory is down: order.placed waits on the bus, and payment is first to answer.
    await m.halt('inventory')
    const placed = await m.placeOrder(alice, [[lamp, 2]])
    const payment = await pay(placed)
    const paid = await m.waitForStatus(placed.id, 'paid', alice.token)
    expect(paid).toMatchObject({ payment: 'paid', expiresAt: null })

    // Inventory comes back to order.placed, payment.succeeded and order.paid, in whatever order its
    // topics deliver them, and answers with stock.reserved, which finds the order past it.
    await m.resume('inventory')
    await waitFor(() => m.holdOf(placed.id) === 'committed', 'inventory to commit the hold', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 3, reserved: 0, available: 3 })
    const reserved = await waitFor(
      () => m.published('stock.reserved', placed.id)[0],
      'stock.reserved',
      30_000,
    )
    const timeline = await waitFor(
      async () => {
        const items = await m.timelineOf(placed.id)
        return items.some((e) => e.type === 'stock.reserved') ? items : null
      },
      'the order to hear stock.reserved',
      30_000,
    )
    expect(timeline.map((e) => [e.type, e.source, e.outcome, e.from, e.to])).toEqual([
      ['order.placed', 'order', 'moved', null, 'pending'],
      ['payment.succeeded', 'payment', 'moved', 'pending', 'paid'],
      ['stock.reserved', 'inventory', 'ignored', 'paid', 'paid'],
    ])
    expect(timeline[1]?.eventId).toBe(payment.id)
    expect(timeline[1]?.emitted.map((e) => e.type)).toEqual(['order.paid'])
    expect(timeline[2]).toMatchObject({ eventId: reserved.id, reason: 'no transition from paid on reserved' })

    const after = await m.orderOf(placed.id, alice.token)
    expect(after).toMatchObject({ status: 'paid', payment: 'paid', version: paid.version })
    await waitFor(() => m.published('order.paid', placed.id)[0], 'order.paid on its topic', 30_000)
    expect(m.published('order.paid', placed.id)).toHaveLength(1)
    expect(m.published('order.awaiting_payment', placed.id)).toEqual([])
  }, 30_000)

  test('an admin cancels a paid order: cancelled with a refund due, and inventory puts the goods back', async () => {
    const lamp = await inStock(5)
    const placed = await m.placeOrder(alice, [[lamp, 2]])
    await m.waitForStatus(placed.id, 'unpaid', alice.token)
    await pay(placed)
    await m.waitForStatus(placed.id, 'paid', alice.token)
    await waitFor(() => m.holdOf(placed.id) === 'committed', 'inventory to commit the hold', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 3, reserved: 0, available: 3 })

    // The customer may no longer cancel; an admin may, until it ships.
    const path = `/api/orders/${placed.id}/cancel`
    expect((await m.call('order', 'POST', path, {}, alice.token)).status).toBe(409)
    const cancelled = await m.call('order', 'POST', path, { reason: 'damaged in the warehouse' }, m.root)
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      payment: 'paid',
      outcome: { kind: 'cancelled', by: 'admin', reason: 'damaged in the warehouse', refundDue: true },
    })
    const rootId = (await m.call('user', 'GET', '/api/users/me', undefined, m.root)).body.id
    const announced = await waitFor(
      () => m.published('order.cancelled', placed.id)[0],
      'order.cancelled',
      30_000,
    )
    expect(announced.data).toMatchObject({ by: 'admin', actorId: rootId, refundDue: true })

    await waitFor(() => m.holdOf(placed.id) === 'restocked', 'inventory to restock', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 0, available: 5 })
  }, 30_000)
}

suite(() => new MemoryBus({ duplicateDelivery: true }))

describeKafka('the order saga over real Kafka', (brokers) => {
  suite(() => kafkaTestBus(brokers, 'e2e-order'))
})
