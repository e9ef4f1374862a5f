// The order service's own figure on GET /metrics: orders by state, counted from its database.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type OrderHarness, startOrder } from './support.ts'

let h: OrderHarness
beforeEach(async () => {
  h = await startOrder()
  await h.product('p1', 1999)
})
afterEach(() => h.stop())

/** `mart_orders` by status, as scraped. */
async function ordersByStatus(): Promise<Record<string, number>> {
  const res = await h.svc.app.handle(new Request('http://order.mart.test/metrics'))
  expect(res.status).toBe(200)
  const out: Record<string, number> = {}
  for (const m of (await res.text()).matchAll(/^mart_orders\{status="(\w+)",service="order"\} (\d+)$/gm)) {
    out[m[1] as string] = Number(m[2])
  }
  return out
}

test('mart_orders counts the orders in each state, every state present', async () => {
  expect(Object.values(await ordersByStatus())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0])
  const alice = await h.person()
  const first = await h.place(alice, h.lines(['p1', 1]))
  const second = await h.place(alice, h.lines(['p1', 2]))
  expect([first.status, second.status]).toEqual([202, 202])
  const reasons = [{ productId: 'p1', reason: 'insufficient_stock' as const, requested: 2, available: 0 }]
  await h.apply(['stock.rejected', { orderId: second.body.id, reasons }, second.body.id])

  expect(await ordersByStatus()).toEqual({
    pending: 1,
    unpaid: 0,
    confirmed: 0,
    paid: 0,
    shipped: 0,
    delivered: 0,
    rejected: 1,
    cancelled: 0,
    expired: 0,
  })
})
