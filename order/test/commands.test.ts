import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { EventData } from '@mart/shared'
import { type OrderHarness, payment, reserved, startOrder } from './support.ts'

let h: OrderHarness
beforeEach(async () => {
  h = await startOrder()
  await h.product('p1', 1999)
})
afterEach(() => h.stop())

async function placed() {
  const alice = await h.person()
  const res = await h.place(alice, h.lines(['p1', 1]))
  return { alice, id: res.body.id as string }
}
const pay = (id: string, userId: string) =>
  h.apply(
    ['stock.reserved', reserved(id), id],
    ['payment.succeeded', { ...payment(id, userId), method: 'stripe' }, id],
  )
const cancellations = () =>
  h
    .outbox()
    .filter((e) => e.type === 'order.cancelled')
    .map((e) => e.data as EventData<'order.cancelled'>)
const post = (id: string, command: string, token: string, body?: unknown) =>
  h.call('POST', `/api/orders/${id}/${command}`, { token, body })

describe('cancel', () => {
  test('the owner cancels an unpaid order with a reason: order.cancelled by the user, no refund due', async () => {
    const { alice, id } = await placed()
    await h.apply(['stock.reserved', reserved(id), id])
    const res = await post(id, 'cancel', alice.token, { reason: 'found it cheaper' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      status: 'cancelled',
      expiresAt: null,
      outcome: { kind: 'cancelled', by: 'user', reason: 'found it cheaper', refundDue: false },
    })
    expect(cancellations()).toEqual([
      {
        orderId: id,
        userId: alice.id,
        number: 'MRT-10001',
        by: 'user',
        actorId: alice.id,
        reason: 'found it cheaper',
        refundDue: false,
      },
    ])
  })

  test('the body is optional', async () => {
    const { alice, id } = await placed()
    const res = await post(id, 'cancel', alice.token)
    expect(res.status).toBe(200)
    expect(cancellations()[0]?.reason).toBe('')
  })

  test('an unknown field in the body is a 422 and cancels nothing', async () => {
    const { alice, id } = await placed()
    const res = await post(id, 'cancel', alice.token, { reason: 'x', refund: true })
    expect(res.status).toBe(422)
    expect(h.stateOf(id)?.status).toBe('pending')
  })

  test('the owner cannot cancel a paid order: 409 with the status; an admin can, and a refund is due', async () => {
    const { alice, id } = await placed()
    const admin = await h.person('admin')
    await pay(id, alice.id)
    const refused = await post(id, 'cancel', alice.token)
    expect(refused.status).toBe(409)
    expect(refused.headers.get('content-type')).toStartWith('application/problem+json')
    expect(refused.body.detail).toStartWith('the order is paid: ')
    const res = await post(id, 'cancel', admin.token, { reason: 'damaged in the warehouse' })
    expect(res.body.outcome).toEqual({
      kind: 'cancelled',
      by: 'admin',
      reason: 'damaged in the warehouse',
      refundDue: true,
    })
    expect(cancellations()).toMatchObject([{ by: 'admin', actorId: admin.id, refundDue: true }])
  })

  test("someone else's order is a 404, and stays as it was", async () => {
    const { id } = await placed()
    const bob = await h.person()
    const res = await post(id, 'cancel', bob.token)
    expect(res.status).toBe(404)
    expect(h.stateOf(id)?.status).toBe('pending')
  })

  test('a cancelled order cannot be cancelled again: 409', async () => {
    const { alice, id } = await placed()
    await post(id, 'cancel', alice.token)
    const again = await post(id, 'cancel', alice.token)
    expect(again.status).toBe(409)
    expect(again.body.detail).toStartWith('the order is cancelled: ')
    expect(cancellations()).toHaveLength(1)
  })
})

describe('ship and deliver', () => {
  test('an admin ships a paid order and delivers it', async () => {
    const { alice, id } = await placed()
    const admin = await h.person('admin')
    await pay(id, alice.id)
    expect((await post(id, 'ship', admin.token)).body.status).toBe('shipped')
    expect((await post(id, 'deliver', admin.token)).body.status).toBe('delivered')
    expect(
      h
        .outbox()
        .map((e) => e.type)
        .slice(-2),
    ).toEqual(['order.shipped', 'order.delivered'])
  })

  test('an order that is not paid or confirmed cannot ship; one not shipped cannot be delivered', async () => {
    const { id } = await placed()
    const admin = await h.person('admin')
    const ship = await post(id, 'ship', admin.token)
    expect([ship.status, ship.body.detail]).toEqual([
      409,
      'the order is pending: only a paid or confirmed order can be shipped',
    ])
    expect((await post(id, 'deliver', admin.token)).status).toBe(409)
  })

  test('a customer cannot ship or deliver: 403', async () => {
    const { alice, id } = await placed()
    expect((await post(id, 'ship', alice.token)).status).toBe(403)
    expect((await post(id, 'deliver', alice.token)).status).toBe(403)
  })

  test('an unknown order: 404', async () => {
    const admin = await h.person('admin')
    expect((await post('nope', 'ship', admin.token)).status).toBe(404)
  })
})
