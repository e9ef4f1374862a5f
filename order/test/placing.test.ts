import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { type OrderHarness, startOrder } from './support.ts'

let h: OrderHarness
beforeEach(async () => {
  h = await startOrder()
  await h.product('p1', 1999)
  await h.product('p2', 250)
})
afterEach(() => h.stop())

describe('POST /api/orders', () => {
  test('prices the lines from the catalogue, answers 202 pending with Location, and stages order.placed', async () => {
    const alice = await h.person()
    const res = await h.place(alice, {
      ...h.lines(['p1', 2], ['p2', 3]),
      shippingAddress: {
        name: 'Alice',
        line1: '1 Main St',
        city: 'Lyon',
        postalCode: '69001',
        country: 'FR',
      },
      note: 'ring twice',
    })
    expect(res.status).toBe(202)
    expect(res.headers.get('location')).toBe(`/api/orders/${res.body.id}`)
    expect(res.body).toMatchObject({
      number: 'MRT-10001',
      userId: alice.id,
      status: 'pending',
      payment: 'none',
      lines: [
        {
          productId: 'p1',
          name: 'Product p1',
          quantity: 2,
          unitPrice: { amount: 1999, currency: 'EUR' },
          lineTotal: { amount: 3998, currency: 'EUR' },
        },
        {
          productId: 'p2',
          name: 'Product p2',
          quantity: 3,
          unitPrice: { amount: 250, currency: 'EUR' },
          lineTotal: { amount: 750, currency: 'EUR' },
        },
      ],
      total: { amount: 4748, currency: 'EUR' },
      note: 'ring twice',
      version: 1,
    })
    const placed = h.outbox().filter((e) => e.type === 'order.placed')
    expect(placed.map((e) => e.data)).toEqual([
      {
        orderId: res.body.id,
        userId: alice.id,
        number: 'MRT-10001',
        lines: [
          { productId: 'p1', name: 'Product p1', quantity: 2, unitPrice: { amount: 1999, currency: 'EUR' } },
          { productId: 'p2', name: 'Product p2', quantity: 3, unitPrice: { amount: 250, currency: 'EUR' } },
        ],
        total: { amount: 4748, currency: 'EUR' },
      },
    ])
  })
})
