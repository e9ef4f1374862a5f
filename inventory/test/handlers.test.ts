import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createEvent, type Event, type EventData } from '@mart/shared'
import { collect, type SendStep, waitFor } from '@mart/shared/testing'
import { cancellation, type InventoryHarness, paid, placed, product, ref, startInventory } from './support.ts'

let h: InventoryHarness
beforeEach(async () => {
  h = await startInventory()
})
afterEach(() => h.stop())

type Emitted = ReturnType<InventoryHarness['outbox']>[number]
const ofType = <T extends Emitted['type']>(type: T) =>
  h.outbox().filter((e) => e.type === type) as unknown as Event<T>[]
const dataOf = <T extends Emitted['type']>(type: T) => ofType(type).map((e) => e.data as EventData<T>)
const warnings = () =>
  h.logLines().filter((l) => l.msg === 'order event ignored: no transition from this hold')
/** An admin cancels a paid order before it ships: the customer is refunded. */
const adminCancellation = (orderId: string): EventData<'order.cancelled'> => ({
  ...cancellation(orderId, 'damaged in the warehouse'),
  by: 'admin',
  actorId: 'admin-1',
  refundDue: true,
})

describe('stock items from product events', () => {
  test('product.created makes a stock item with its initial stock and announces it once', async () => {
    await h.apply(['product.created', product('p1', 12), 'p1'], ['product.created', product('p0', 0), 'p0'])
    expect(h.item('p1')).toEqual({ onHand: 12, reserved: 0, threshold: 5, discontinued: 0 })
    expect(h.item('p0')).toMatchObject({ onHand: 0, reserved: 0 })
    expect(dataOf('stock.adjusted')).toEqual([
      {
        productId: 'p1',
        onHand: 12,
        reserved: 0,
        available: 12,
        lowStockThreshold: 5,
        status: 'in_stock',
        reason: 'product.created',
      },
      {
        productId: 'p0',
        onHand: 0,
        reserved: 0,
        available: 0,
        lowStockThreshold: 5,
        status: 'out_of_stock',
        reason: 'product.created',
      },
    ])
    // Stock.adjusted is keyed by the product, caused by the product event.
    expect(ofType('stock.adjusted')[0]?.subject).toBe('p1')
  })

  test('product.created without initialStock makes an empty stock item', async () => {
    const { initialStock: _none, ...withoutStock } = product('p2', 7)
    await h.apply(['product.created', withoutStock, 'p2'])
    expect(h.item('p2')).toMatchObject({ onHand: 0, reserved: 0 })
  })

  test('a second product.created for the same product (a new event, not a redelivery) resets nothing', async () => {
    await h.apply(
      ['product.created', product('p1', 10), 'p1'],
      ['order.placed', placed('o1', [['p1', 4]]), 'o1'],
    )
    await h.apply(['product.created', product('p1', 99), 'p1'])
    expect(h.item('p1')).toMatchObject({ onHand: 10, reserved: 4 })
  })

  test('product.deleted discontinues: new orders are rejected, held stock can still be released', async () => {
    await h.apply(
      ['product.created', product('p1', 10), 'p1'],
      ['order.placed', placed('o1', [['p1', 2]]), 'o1'],
      ['product.deleted', { id: 'p1' }, 'p1'],
      ['order.placed', placed('o2', [['p1', 1]]), 'o2'],
      ['order.cancelled', cancellation('o1', 'changed my mind'), 'o1'],
    )
    expect(h.item('p1')).toEqual({ onHand: 10, reserved: 0, threshold: 5, discontinued: 1 })
    expect(dataOf('stock.rejected')).toEqual([
      { orderId: 'o2', reasons: [{ productId: 'p1', reason: 'discontinued', requested: 1, available: 0 }] },
    ])
    expect(dataOf('stock.released')).toEqual([{ orderId: 'o1', lines: [{ productId: 'p1', quantity: 2 }] }])
  })

  test('a product.deleted that overtakes its product.created leaves it discontinued', async () => {
    await h.apply(['product.deleted', { id: 'p1' }, 'p1'], ['product.created', product('p1', 10), 'p1'])
    expect(h.item('p1')).toMatchObject({ onHand: 0, discontinued: 1 })
  })
})

describe('reservations', () => {
  beforeEach(async () => {
    await h.apply(['product.created', product('a', 10), 'a'], ['product.created', product('b', 3), 'b'])
  })

  test('order.placed reserves every line, announces stock.reserved and one stock.adjusted per product', async () => {
    const [e] = await h.apply([
      'order.placed',
      placed('o1', [
        ['a', 2],
        ['b', 1],
        ['a', 3],
      ]),
      'o1',
    ])
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 5 })
    expect(h.item('b')).toMatchObject({ onHand: 3, reserved: 1 })
    // Lines of one product are summed into one reservation.
    expect(h.reservationsOf('o1')).toEqual([
      { productId: 'a', quantity: 5 },
      { productId: 'b', quantity: 1 },
    ])
    const reserved = ofType('stock.reserved')
    expect(reserved).toHaveLength(1)
    expect(reserved[0]).toMatchObject({
      subject: 'o1',
      source: 'inventory',
      causationId: e?.id,
      correlationId: e?.correlationId,
      data: {
        orderId: 'o1',
        lines: [
          { productId: 'a', quantity: 5 },
          { productId: 'b', quantity: 1 },
        ],
      },
    })
    const adjusted = dataOf('stock.adjusted').filter((d) => d.reason === 'order.placed')
    expect(adjusted).toEqual([
      {
        productId: 'a',
        onHand: 10,
        reserved: 5,
        available: 5,
        lowStockThreshold: 5,
        status: 'low_stock',
        reason: 'order.placed',
      },
      {
        productId: 'b',
        onHand: 3,
        reserved: 1,
        available: 2,
        lowStockThreshold: 5,
        status: 'low_stock',
        reason: 'order.placed',
      },
    ])
    // a went from 10 (above 5) to 5: low. b was low already: no second alarm.
    expect(dataOf('stock.low')).toEqual([{ productId: 'a', available: 5, lowStockThreshold: 5 }])
  })

  test('all or nothing: one failing line rejects the order with a reason per failing line and reserves nothing', async () => {
    await h.apply([
      'order.placed',
      placed('o1', [
        ['a', 1],
        ['b', 2],
        ['b', 2],
        ['ghost', 1],
      ]),
      'o1',
    ])
    expect(h.item('a')).toMatchObject({ reserved: 0 })
    expect(h.item('b')).toMatchObject({ reserved: 0 })
    expect(h.reservationsOf('o1')).toEqual([])
    expect(dataOf('stock.rejected')).toEqual([
      {
        orderId: 'o1',
        reasons: [
          { productId: 'b', reason: 'insufficient_stock', requested: 4, available: 3 },
          { productId: 'ghost', reason: 'unknown_product', requested: 1, available: 0 },
        ],
      },
    ])
    expect(ofType('stock.reserved')).toEqual([])
    expect(dataOf('stock.adjusted').filter((d) => d.reason !== 'product.created')).toEqual([])
  })

  test('insufficient stock reports what is available after other reservations', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['b', 2]]), 'o1'],
      ['order.placed', placed('o2', [['b', 2]]), 'o2'],
    )
    expect(dataOf('stock.rejected')).toEqual([
      {
        orderId: 'o2',
        reasons: [{ productId: 'b', reason: 'insufficient_stock', requested: 2, available: 1 }],
      },
    ])
    expect(h.item('b')).toMatchObject({ reserved: 2 })
  })

  for (const type of ['order.cancelled', 'order.expired', 'order.rejected'] as const) {
    test(`${type} releases what the order holds, once`, async () => {
      await h.apply([
        'order.placed',
        placed('o1', [
          ['a', 4],
          ['b', 3],
        ]),
        'o1',
      ])
      const step = (
        type === 'order.cancelled'
          ? [type, cancellation('o1', 'user cancelled'), 'o1']
          : type === 'order.rejected'
            ? [type, { ...ref('o1'), reasons: [] }, 'o1']
            : [type, ref('o1'), 'o1']
      ) as SendStep
      await h.apply(step, step)
      expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
      expect(h.item('b')).toMatchObject({ onHand: 3, reserved: 0 })
      expect(h.reservationsOf('o1')).toEqual([])
      expect(dataOf('stock.released')).toEqual([
        {
          orderId: 'o1',
          lines: [
            { productId: 'a', quantity: 4 },
            { productId: 'b', quantity: 3 },
          ],
        },
      ])
      expect(dataOf('stock.adjusted').filter((d) => d.reason === type)).toMatchObject([
        { productId: 'a', available: 10, status: 'in_stock' },
        { productId: 'b', available: 3, status: 'low_stock' },
      ])
    })
  }

  test('payment.succeeded commits (on hand and reserved drop) and the order.paid after it changes nothing', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 4]]), 'o1'],
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 6, reserved: 0 })
    expect(h.reservationsOf('o1')).toEqual([])
    expect(dataOf('stock.committed')).toEqual([{ orderId: 'o1', lines: [{ productId: 'a', quantity: 4 }] }])
    expect(ofType('stock.released')).toEqual([])
    expect(dataOf('stock.adjusted').at(-1)).toMatchObject({
      productId: 'a',
      onHand: 6,
      reserved: 0,
      available: 6,
      reason: 'payment.succeeded',
    })
  })

  test('order.paid alone commits too', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['b', 3]]), 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
    )
    expect(h.item('b')).toMatchObject({ onHand: 0, reserved: 0 })
    expect(ofType('stock.committed')).toHaveLength(1)
  })
})

describe('shipping', () => {
  beforeEach(async () => {
    await h.apply(['product.created', product('a', 10), 'a'])
  })

  test('paid, then shipped: the goods leave the shelf once, on the payment', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 4]]), 'o1'],
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
      ['order.shipped', ref('o1'), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 6, reserved: 0 })
    expect(dataOf('stock.committed')).toEqual([{ orderId: 'o1', lines: [{ productId: 'a', quantity: 4 }] }])
    expect(dataOf('stock.adjusted').map((d) => d.reason)).toEqual([
      'product.created',
      'order.placed',
      'payment.succeeded',
    ])
    expect(warnings()).toEqual([])
  })

  test('shipped before paid (cash on delivery): the shipment takes the goods, the cash collected later changes nothing', async () => {
    await h.apply(['order.placed', placed('o1', [['a', 3]]), 'o1'], ['order.shipped', ref('o1'), 'o1'])
    expect(h.item('a')).toMatchObject({ onHand: 7, reserved: 0 })
    expect(h.reservationsOf('o1')).toEqual([])
    expect(dataOf('stock.committed')).toEqual([{ orderId: 'o1', lines: [{ productId: 'a', quantity: 3 }] }])
    expect(dataOf('stock.adjusted').at(-1)).toMatchObject({
      onHand: 7,
      reserved: 0,
      available: 7,
      reason: 'order.shipped',
    })

    await h.apply(
      ['payment.succeeded', { ...paid('o1'), method: 'cod' }, 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 7, reserved: 0 })
    expect(ofType('stock.committed')).toHaveLength(1)
    expect(warnings()).toEqual([])
  })

  test('order.delivered changes nothing', async () => {
    await h.apply(['order.placed', placed('o1', [['a', 2]]), 'o1'], ['order.shipped', ref('o1'), 'o1'])
    const before = h.outbox().length
    await h.apply(['order.delivered', ref('o1'), 'o1'])
    expect(h.outbox()).toHaveLength(before)
    expect(h.item('a')).toMatchObject({ onHand: 8, reserved: 0 })
    expect(warnings()).toEqual([])
  })
})

describe('cancelled after the goods left the shelf', () => {
  beforeEach(async () => {
    await h.apply(['product.created', product('a', 10), 'a'], ['product.created', product('b', 3), 'b'])
  })

  test('paid, then cancelled by an admin before shipping: the goods go back on the shelf, announced', async () => {
    const [, , , cancelled] = await h.apply(
      [
        'order.placed',
        placed('o1', [
          ['a', 4],
          ['b', 3],
        ]),
        'o1',
      ],
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
      ['order.cancelled', adminCancellation('o1'), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
    expect(h.item('b')).toMatchObject({ onHand: 3, reserved: 0 })
    const released = ofType('stock.released')
    expect(released).toHaveLength(1)
    expect(released[0]).toMatchObject({
      subject: 'o1',
      causationId: cancelled?.id,
      data: {
        orderId: 'o1',
        lines: [
          { productId: 'a', quantity: 4 },
          { productId: 'b', quantity: 3 },
        ],
      },
    })
    // One stock.adjusted per product, its reason naming the restock.
    expect(dataOf('stock.adjusted').filter((d) => d.reason.startsWith('order.cancelled'))).toEqual([
      {
        productId: 'a',
        onHand: 10,
        reserved: 0,
        available: 10,
        lowStockThreshold: 5,
        status: 'in_stock',
        reason: 'order.cancelled: restocked',
      },
      {
        productId: 'b',
        onHand: 3,
        reserved: 0,
        available: 3,
        lowStockThreshold: 5,
        status: 'low_stock',
        reason: 'order.cancelled: restocked',
      },
    ])
    expect(warnings()).toEqual([])
    // What came back can be ordered again.
    await h.apply(['order.placed', placed('o2', [['b', 3]]), 'o2'])
    expect(dataOf('stock.reserved').map((d) => d.orderId)).toEqual(['o1', 'o2'])
  })

  test("the customer's cancellation that a payment beat to inventory gives the goods back too", async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 2]]), 'o1'],
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.cancelled', cancellation('o1', 'changed my mind'), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
    expect(dataOf('stock.released')).toEqual([{ orderId: 'o1', lines: [{ productId: 'a', quantity: 2 }] }])
  })

  test('a restock happens once: a later payment, order.paid or cancellation changes nothing more', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 4]]), 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
      ['order.cancelled', adminCancellation('o1'), 'o1'],
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.cancelled', adminCancellation('o1'), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
    expect(ofType('stock.released')).toHaveLength(1)
    expect(warnings().map((l) => [l.state, l.input, l.event])).toEqual([
      ['restocked', 'cancelled', 'order.cancelled'],
    ])
  })

  test('cancelled after it shipped: ignored with a warning and a count, nothing comes back', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 4]]), 'o1'],
      ['order.placed', placed('o2', [['a', 1]]), 'o2'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
      ['order.shipped', ref('o1'), 'o1'],
      ['order.shipped', ref('o2'), 'o2'],
    )
    const before = h.outbox().length
    await h.apply(
      ['order.cancelled', adminCancellation('o1'), 'o1'],
      ['order.cancelled', adminCancellation('o2'), 'o2'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 5, reserved: 0 })
    expect(h.outbox()).toHaveLength(before)
    expect(warnings().map((l) => [l.level, l.orderId, l.state, l.input, l.event, l.ignored])).toEqual([
      [40, 'o1', 'shipped', 'cancelled', 'order.cancelled', 1],
      [40, 'o2', 'shipped', 'cancelled', 'order.cancelled', 2],
    ])
  })
})

describe('redelivery and out-of-order delivery', () => {
  beforeEach(async () => {
    await h.apply(['product.created', product('a', 10), 'a'])
  })

  test('every message is delivered twice (the harness bus) and each effect happens once', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 3]]), 'o1'],
      ['order.placed', placed('o2', [['a', 2]]), 'o2'],
      ['order.expired', ref('o2'), 'o2'],
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.shipped', ref('o1'), 'o1'],
      ['order.placed', placed('o3', [['a', 4]]), 'o3'],
      ['order.paid', { ...ref('o3'), paymentId: 'pay-o3' }, 'o3'],
      ['order.cancelled', adminCancellation('o3'), 'o3'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 7, reserved: 0 })
    const types = h.outbox().map((e) => e.type)
    expect(types.filter((t) => t === 'stock.reserved')).toHaveLength(3)
    expect(types.filter((t) => t === 'stock.released')).toHaveLength(2)
    expect(types.filter((t) => t === 'stock.committed')).toHaveLength(2)
    const inbox = h.svc.store.sqlite.prepare('SELECT count(*) AS n FROM mart_inbox').get() as { n: number }
    expect(inbox.n).toBe(9)
  })

  test('a second order.placed for the same order (a new event id) reserves nothing more and emits nothing', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 3]]), 'o1'],
      ['order.placed', placed('o1', [['a', 3]]), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ reserved: 3 })
    expect(ofType('stock.reserved')).toHaveLength(1)
    // Nor does one for a rejected order.
    await h.apply(
      ['order.placed', placed('o2', [['a', 50]]), 'o2'],
      ['order.placed', placed('o2', [['a', 1]]), 'o2'],
    )
    expect(h.item('a')).toMatchObject({ reserved: 3 })
    expect(ofType('stock.rejected')).toHaveLength(1)
  })

  test('a release before its order.placed leaves a tombstone: the late order.placed reserves nothing and emits nothing', async () => {
    await h.apply(['order.cancelled', cancellation('o1', 'cancelled at once'), 'o1'])
    expect(h.outbox().filter((e) => e.type !== 'stock.adjusted')).toEqual([])
    await h.apply(['order.placed', placed('o1', [['a', 3]]), 'o1'])
    expect(h.item('a')).toMatchObject({ reserved: 0 })
    expect(h.reservationsOf('o1')).toEqual([])
    expect(h.outbox().map((e) => e.type)).toEqual(['stock.adjusted']) // product.created's only
    // The tombstone is final: a late payment for it takes nothing off the shelf either.
    await h.apply(['payment.succeeded', paid('o1'), 'o1'])
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
  })

  test('a payment before its order.placed: the late order.placed reserves and commits at once', async () => {
    await h.apply(['payment.succeeded', paid('o1'), 'o1'])
    expect(h.outbox().map((e) => e.type)).toEqual(['stock.adjusted'])
    await h.apply(
      ['order.placed', placed('o1', [['a', 4]]), 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'p' }, 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 6, reserved: 0 })
    expect(h.outbox().map((e) => e.type)).toEqual([
      'stock.adjusted',
      'stock.reserved',
      'stock.committed',
      'stock.adjusted',
    ])
    expect(dataOf('stock.adjusted').at(-1)).toMatchObject({ onHand: 6, reserved: 0, available: 6 })
  })

  test('a payment and then a cancellation before order.placed: the cancellation wins, nothing leaves the shelf', async () => {
    await h.apply(
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.expired', ref('o1'), 'o1'],
      ['order.placed', placed('o1', [['a', 4]]), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
    expect(h.outbox().map((e) => e.type)).toEqual(['stock.adjusted'])
  })

  test('a payment too late for its order, before or after the expiry: the goods end on the shelf either way', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 1]]), 'o1'],
      ['order.placed', placed('o2', [['a', 2]]), 'o2'],
      // o1: the payment reaches inventory before the expiry the order service decided first.
      ['payment.succeeded', paid('o1'), 'o1'],
      ['order.expired', ref('o1'), 'o1'],
      // o2: the expiry first; the payment finds nothing held.
      ['order.expired', ref('o2'), 'o2'],
      ['payment.succeeded', paid('o2'), 'o2'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
    expect(dataOf('stock.committed').map((d) => d.orderId)).toEqual(['o1'])
    expect(dataOf('stock.released')).toEqual([
      { orderId: 'o1', lines: [{ productId: 'a', quantity: 1 }] },
      { orderId: 'o2', lines: [{ productId: 'a', quantity: 2 }] },
    ])
  })

  test('an admin cancellation that overtakes its payment.succeeded: restocked once, the payment changes nothing', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 3]]), 'o1'],
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
      ['order.cancelled', adminCancellation('o1'), 'o1'],
      ['payment.succeeded', paid('o1'), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
    expect(h.outbox().map((e) => e.type)).toEqual([
      'stock.adjusted',
      'stock.reserved',
      'stock.adjusted',
      'stock.committed',
      'stock.adjusted',
      'stock.released',
      'stock.adjusted',
    ])
    expect(warnings()).toEqual([])
  })

  test('cash on delivery shipped, then its cash collected, then a cancellation: the goods stay shipped', async () => {
    await h.apply(
      ['order.placed', placed('o1', [['a', 2]]), 'o1'],
      ['order.shipped', ref('o1'), 'o1'],
      ['payment.succeeded', { ...paid('o1'), method: 'cod' }, 'o1'],
      ['order.cancelled', adminCancellation('o1'), 'o1'],
    )
    expect(h.item('a')).toMatchObject({ onHand: 8, reserved: 0 })
    expect(ofType('stock.committed')).toHaveLength(1)
    expect(ofType('stock.released')).toEqual([])
  })
})

describe('events that no longer apply', () => {
  test('are ignored with a warning and a count per (state, input), recorded as handled, never dead-lettered', async () => {
    await h.apply(['product.created', product('a', 10), 'a'])
    const sent = await h.apply(
      ['order.placed', placed('o1', [['a', 1]]), 'o1'],
      ['payment.succeeded', paid('o1'), 'o1'],
      // The second announcement of the payment is expected: no warning.
      ['order.paid', { ...ref('o1'), paymentId: 'pay-o1' }, 'o1'],
      ['order.shipped', ref('o1'), 'o1'],
      ['order.cancelled', cancellation('o1', 'too late'), 'o1'],
      ['order.expired', ref('o1'), 'o1'],
      ['order.placed', placed('o1', [['a', 1]]), 'o1'],
    )
    expect(warnings().map((l) => [l.level, l.orderId, l.state, l.input, l.event, l.ignored])).toEqual([
      [40, 'o1', 'shipped', 'cancelled', 'order.cancelled', 1],
      [40, 'o1', 'shipped', 'cancelled', 'order.expired', 2],
      [40, 'o1', 'shipped', 'placed', 'order.placed', 1],
    ])
    expect(h.item('a')).toMatchObject({ onHand: 9, reserved: 0 })
    // Handled (their inbox rows committed), so never retried or dead-lettered.
    const inbox = h.svc.store.sqlite.prepare('SELECT event_id AS id FROM mart_inbox').all() as {
      id: string
    }[]
    expect(inbox.map((r) => r.id)).toEqual(expect.arrayContaining(sent.map((e) => e.id)))
  })
})

describe('the database holds the invariant 0 <= reserved <= on_hand', () => {
  test('updates that break it are refused by SQLite itself', async () => {
    await h.apply(['product.created', product('a', 5), 'a'])
    const sqlite = h.svc.store.sqlite
    const refused = (statement: string) =>
      expect(() => sqlite.exec(statement)).toThrow(/CHECK constraint failed/)
    refused("UPDATE stock_items SET reserved = 6 WHERE product_id = 'a'")
    refused("UPDATE stock_items SET reserved = -1 WHERE product_id = 'a'")
    refused("UPDATE stock_items SET on_hand = -1, reserved = 0 WHERE product_id = 'a'")
    await h.apply(['order.placed', placed('o1', [['a', 3]]), 'o1'])
    refused("UPDATE stock_items SET on_hand = 2 WHERE product_id = 'a'")
    refused(
      "INSERT INTO stock_items (product_id, on_hand, reserved, low_stock_threshold, created_at, updated_at) VALUES ('x', 1, 2, 0, 0, 0)",
    )
    expect(h.item('a')).toMatchObject({ onHand: 5, reserved: 3 })
  })
})

describe('invalid events', () => {
  test('an order.placed that breaks its schema is dead-lettered, reserves nothing, and the partition moves on', async () => {
    const dlq = await collect(h.bus, 'dlq-reader', ['order.events.dlq'])
    await h.apply(['product.created', product('p1', 5), 'p1'])
    const valid = createEvent({
      type: 'order.placed',
      data: placed('o-bad', [['p1', 1]]),
      subject: 'o1',
      source: 'order',
    })
    // A quantity of 0 is not a line: the catalog refuses it.
    const bad = {
      ...valid,
      data: { ...valid.data, lines: valid.data.lines.map((l) => ({ ...l, quantity: 0 })) },
    }
    await h.bus.publish([{ topic: 'order.events', key: 'o1', value: JSON.stringify(bad), headers: {} }])
    // A valid order on the same key comes after it in the partition.
    await h.apply(['order.placed', placed('o-good', [['p1', 2]]), 'o1'])
    await waitFor(() => dlq.got.length > 0, 'the dead letter')
    expect(dlq.got[0]?.headers['dlq-reason']).toBe('invalid')
    expect(dlq.got[0]?.headers['dlq-error']).toContain('invalid order.placed data')
    expect(h.reservationsOf('o-bad')).toEqual([])
    expect(h.reservationsOf('o-good')).toEqual([{ productId: 'p1', quantity: 2 }])
    expect(h.item('p1')).toMatchObject({ onHand: 5, reserved: 2 })
    await dlq.stop()
  })
})
