import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type PaymentHarness, startPayment } from './support.ts'

let h: PaymentHarness
beforeEach(async () => {
  h = await startPayment()
})
afterEach(() => h.stop())

test("a payment is its owner's and the admins': anyone else gets 404", async () => {
  const [alice, bob, admin] = [await h.person(), await h.person(), await h.person('admin')]
  const o = await h.order(alice.id)
  const { body } = await h.pay(alice, o.orderId, 'cod')
  expect((await h.call('GET', `/api/payments/${body.id}`, { token: alice.token })).body).toEqual(body)
  expect((await h.call('GET', `/api/payments/${body.id}`, { token: admin.token })).status).toBe(200)
  expect((await h.call('GET', `/api/payments/${body.id}`, { token: bob.token })).status).toBe(404)
  expect((await h.call('GET', `/api/payments/${body.id}`)).status).toBe(401)
})

test('a list of my payments, by order and status, newest first; an admin sees all', async () => {
  const [alice, bob, admin] = [await h.person(), await h.person(), await h.person('admin')]
  const a1 = await h.order(alice.id)
  const a2 = await h.order(alice.id)
  const b1 = await h.order(bob.id)
  const p1 = (await h.pay(alice, a1.orderId, 'cod')).body
  const p2 = (await h.pay(alice, a2.orderId, 'cod')).body
  await h.pay(bob, b1.orderId, 'cod')
  const ids = (r: { body: Record<string, unknown> }) => (r.body.items as { id: string }[]).map((p) => p.id)
  expect(ids(await h.call('GET', '/api/payments', { token: alice.token }))).toEqual([p2.id, p1.id])
  expect(ids(await h.call('GET', `/api/payments?orderId=${a1.orderId}`, { token: alice.token }))).toEqual([
    p1.id,
  ])
  expect(ids(await h.call('GET', '/api/payments?status=succeeded', { token: alice.token }))).toEqual([])
  expect(ids(await h.call('GET', `/api/payments?orderId=${b1.orderId}`, { token: alice.token }))).toEqual([])
  expect(ids(await h.call('GET', '/api/payments', { token: admin.token }))).toHaveLength(3)
  const page = await h.call('GET', '/api/payments?limit=1', { token: alice.token })
  expect(
    ids(await h.call('GET', `/api/payments?limit=1&cursor=${page.body.nextCursor}`, { token: alice.token })),
  ).toEqual([p1.id])
})

test('an order paid already is a 409', async () => {
  const alice = await h.person()
  const o = await h.order(alice.id)
  await h.apply([
    'order.paid',
    { orderId: o.orderId, userId: alice.id, number: o.number, paymentId: 'pay-x' },
    o.orderId,
  ])
  const res = await h.pay(alice, o.orderId, 'cod')
  expect([res.status, res.body.detail]).toEqual([409, 'the order is paid already'])
})

test('every route is in /docs', async () => {
  const doc = (await h.call('GET', '/docs/json')).body
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/api/payments',
      '/api/payments/{id}',
      '/api/payments/{id}/collect',
      '/api/payments/{id}/refund',
      '/api/payments/webhooks/stripe',
      '/api/payments/stripe/success',
      '/api/payments/stripe/cancel',
    ]),
  )
})
