import { afterEach, describe, expect, test } from 'bun:test'
import type { EventData, EventType, RefundReason } from '@mart/shared'
import { waitFor } from '@mart/shared/testing'
import { type OrderHarness, payment, reserved, startOrder } from './support.ts'

let h: OrderHarness
afterEach(() => h.stop())

async function start(env: Record<string, string> = {}) {
  h = await startOrder({ env })
  await h.product('p1', 1999)
}

/** A customer with a placed (pending) order of one p1. */
async function placed() {
  const alice = await h.person()
  const res = await h.place(alice, h.lines(['p1', 1]))
  return { alice, id: res.body.id as string }
}
const emitted = <T extends EventType>(type: T) =>
  h
    .outbox()
    .filter((e) => e.type === type)
    .map((e) => e.data as EventData<T>)
const types = () => h.outbox().map((e) => e.type)
const ignoredWarnings = () =>
  h.logLines().filter((l) => l.msg === 'order input ignored: no transition from this state')
const timeline = async (id: string, token: string) =>
  (await h.call('GET', `/api/orders/${id}/timeline`, { token })).body.items as Record<string, unknown>[]
const jobOf = (id: string) =>
  h.svc.store.sqlite.prepare("SELECT state FROM mart_jobs WHERE kind = 'order.expire' AND key = ?").get(id) as
    | { state: string }
    | undefined

describe('inventory answers', () => {
  test('stock.reserved: unpaid, and order.awaiting_payment with the lines, total and expiry, once', async () => {
    await start()
    const { alice, id } = await placed()
    await h.apply(['stock.reserved', reserved(id), id])
    expect(h.stateOf(id)).toMatchObject({ status: 'unpaid', payment: 'none', version: 2 })
    const order = (await h.call('GET', `/api/orders/${id}`, { token: alice.token })).body
    expect(emitted('order.awaiting_payment')).toEqual([
      {
        orderId: id,
        userId: alice.id,
        number: 'MRT-10001',
        lines: [
          { productId: 'p1', name: 'Product p1', quantity: 1, unitPrice: { amount: 1999, currency: 'EUR' } },
        ],
        total: { amount: 1999, currency: 'EUR' },
        expiresAt: order.expiresAt,
      },
    ])
    // The harness delivers every event twice: the second copy changed nothing.
    expect(types()).toEqual(['order.placed', 'order.awaiting_payment'])
  })

  test('stock.rejected: rejected with the reasons per line, and its expiry cancelled', async () => {
    await start()
    const { alice, id } = await placed()
    const reasons = [{ productId: 'p1', reason: 'insufficient_stock' as const, requested: 1, available: 0 }]
    await h.apply(['stock.rejected', { orderId: id, reasons }, id])
    expect(h.stateOf(id)?.status).toBe('rejected')
    expect(emitted('order.rejected')).toEqual([
      { orderId: id, userId: alice.id, number: 'MRT-10001', reasons },
    ])
    const order = (await h.call('GET', `/api/orders/${id}`, { token: alice.token })).body
    expect(order.outcome).toEqual({ kind: 'rejected', reasons })
    expect(order.expiresAt).toBeNull()
    expect(jobOf(id)).toBeUndefined()
  })
})

describe('payment', () => {
  test('payment.succeeded: paid, order.paid with the payment id, no longer expires', async () => {
    await start()
    const { alice, id } = await placed()
    await h.apply(
      ['stock.reserved', reserved(id), id],
      ['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id],
    )
    expect(h.stateOf(id)).toMatchObject({ status: 'paid', payment: 'paid' })
    expect(emitted('order.paid')).toEqual([
      { orderId: id, userId: alice.id, number: 'MRT-10001', paymentId: `pay-${id}` },
    ])
    expect(jobOf(id)).toBeUndefined()
  })

  test('payment before inventory: paid at once; the late stock.reserved is ignored, logged and on the timeline', async () => {
    await start()
    const { alice, id } = await placed()
    await h.apply(
      ['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id],
      ['stock.reserved', reserved(id), id],
    )
    expect(h.stateOf(id)?.status).toBe('paid')
    expect(types()).toEqual(['order.placed', 'order.paid'])
    expect(ignoredWarnings().length).toBeGreaterThan(0)
    expect(ignoredWarnings()[0]).toMatchObject({
      orderId: id,
      state: 'paid',
      input: 'reserved',
      event: 'stock.reserved',
    })
    const entries = await timeline(id, alice.token)
    expect(entries.map((e) => [e.type, e.outcome, e.from, e.to])).toEqual([
      ['order.placed', 'moved', null, 'pending'],
      ['payment.succeeded', 'moved', 'pending', 'paid'],
      ['stock.reserved', 'ignored', 'paid', 'paid'],
    ])
    expect(entries[2]).toMatchObject({ source: 'inventory', reason: 'no transition from paid on reserved' })
  })

  test('cash on delivery: confirmed, never expires, shipped, cash recorded at the door, delivered', async () => {
    await start()
    const { alice, id } = await placed()
    const admin = await h.person('admin')
    await h.apply(['stock.reserved', reserved(id), id], ['payment.cod_selected', payment(id, alice.id), id])
    expect(h.stateOf(id)).toMatchObject({ status: 'confirmed', payment: 'pending' })
    expect(jobOf(id)).toBeUndefined()
    expect((await h.call('POST', `/api/orders/${id}/ship`, { token: admin.token })).body.status).toBe(
      'shipped',
    )
    await h.apply(['payment.succeeded', { ...payment(id, alice.id), method: 'cod' }, id])
    expect(h.stateOf(id)).toMatchObject({ status: 'shipped', payment: 'paid' })
    const delivered = await h.call('POST', `/api/orders/${id}/deliver`, { token: admin.token })
    expect(delivered.body).toMatchObject({ status: 'delivered', payment: 'paid' })
    expect(types()).toEqual([
      'order.placed',
      'order.awaiting_payment',
      'order.confirmed',
      'order.shipped',
      'order.paid',
      'order.delivered',
    ])
  })

  test('money after a cancellation does not revive the order: recorded as paid, not announced', async () => {
    await start()
    const { alice, id } = await placed()
    await h.call('POST', `/api/orders/${id}/cancel`, { token: alice.token, body: { reason: 'too slow' } })
    await h.apply(['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id])
    expect(h.stateOf(id)).toMatchObject({ status: 'cancelled', payment: 'paid' })
    expect(types()).toEqual(['order.placed', 'order.cancelled'])
    await h.apply(['payment.refunded', payment(id, alice.id), id])
    expect(h.stateOf(id)).toMatchObject({ status: 'cancelled', payment: 'refunded' })
    const entries = await timeline(id, alice.token)
    expect(entries.filter((e) => e.outcome === 'moved').map((e) => e.type)).toEqual([
      'order.placed',
      'order.cancel',
      'payment.succeeded',
      'payment.refunded',
    ])
  })

  test('payment before inventory, which then refuses: rejected, the money recorded for payment to refund', async () => {
    await start()
    const { alice, id } = await placed()
    const reasons = [{ productId: 'p1', reason: 'insufficient_stock' as const, requested: 1, available: 0 }]
    await h.apply(
      ['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id],
      ['stock.rejected', { orderId: id, reasons }, id],
    )
    expect(h.stateOf(id)).toMatchObject({ status: 'rejected', payment: 'paid' })
    expect(types()).toEqual(['order.placed', 'order.paid', 'order.rejected'])
  })

  test('a payment after expiry does not revive the order', async () => {
    await start({ ORDER_RESERVATION_TTL_SECONDS: '1' })
    const { alice, id } = await placed()
    await waitFor(() => h.stateOf(id)?.status === 'expired', 'the order to expire', 10_000)
    await h.apply(['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id])
    expect(h.stateOf(id)).toMatchObject({ status: 'expired', payment: 'paid' })
    expect(types()).toEqual(['order.placed', 'order.expired'])
  }, 15_000)

  test('the payment field never moves backwards', async () => {
    await start()
    const { alice, id } = await placed()
    await h.apply(
      ['stock.reserved', reserved(id), id],
      ['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id],
      ['payment.refunded', payment(id, alice.id), id],
    )
    expect(h.stateOf(id)).toMatchObject({ status: 'paid', payment: 'refunded' })
  })

  test('a second charge refunded, or part of the money: the order stays paid, the timeline says why; refunded once it is all back', async () => {
    await start()
    const { alice, id } = await placed()
    const refund = (paymentId: string, amount: number, total: number, reason: RefundReason) => ({
      ...payment(id, alice.id),
      paymentId,
      amount: { amount, currency: 'EUR' },
      refundedTotal: { amount: total, currency: 'EUR' },
      reason,
    })
    await h.apply(
      ['stock.reserved', reserved(id), id],
      ['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id],
      // Another payment paid the same order again (a session we believed expired): payment gives it back.
      ['payment.refunded', refund('pay-twice', 1999, 1999, 'duplicate'), id],
      // A goodwill refund of part of the order's own payment.
      ['payment.refunded', refund(`pay-${id}`, 500, 500, 'requested'), id],
    )
    expect(h.stateOf(id)).toMatchObject({ status: 'paid', payment: 'paid' })
    const entries = await timeline(id, alice.token)
    expect(entries.slice(3).map((e) => [e.type, e.outcome, e.from, e.to, e.reason])).toEqual([
      [
        'payment.refunded',
        'ignored',
        'paid',
        'paid',
        'a refund of another payment that charged the order twice: its own payment stands',
      ],
      [
        'payment.refunded',
        'ignored',
        'paid',
        'paid',
        'a refund of part of the payment: 500 of 1999 EUR back',
      ],
    ])

    await h.apply(['payment.refunded', refund(`pay-${id}`, 1499, 1999, 'requested'), id])
    expect(h.stateOf(id)).toMatchObject({ status: 'paid', payment: 'refunded' })
  })
})

describe('expiry', () => {
  test('an order not paid in time expires and announces it; the timeline names the job', async () => {
    await start({ ORDER_RESERVATION_TTL_SECONDS: '1' })
    const { alice, id } = await placed()
    await h.apply(['stock.reserved', reserved(id), id])
    await waitFor(() => h.stateOf(id)?.status === 'expired', 'the order to expire', 10_000)
    expect(emitted('order.expired')).toEqual([{ orderId: id, userId: alice.id, number: 'MRT-10001' }])
    const entries = await timeline(id, alice.token)
    expect(entries.at(-1)).toMatchObject({
      type: 'order.expire',
      source: 'order',
      from: 'unpaid',
      to: 'expired',
    })
  }, 15_000)

  test('a paid order does not expire', async () => {
    await start({ ORDER_RESERVATION_TTL_SECONDS: '1' })
    const { alice, id } = await placed()
    await h.apply(['payment.succeeded', { ...payment(id, alice.id), method: 'stripe' }, id])
    await Bun.sleep(1500)
    expect(h.stateOf(id)?.status).toBe('paid')
    expect(types()).not.toContain('order.expired')
  })
})

describe('what is not an order of ours', () => {
  test('an event about an unknown order is ignored with a warning, never a dead letter', async () => {
    await start()
    await h.apply(['stock.reserved', reserved('nobody'), 'nobody'])
    expect(h.deadLetters()).toEqual([])
    expect(ignoredWarnings()[0]).toMatchObject({ orderId: 'nobody', state: null, input: 'reserved' })
  })
})
