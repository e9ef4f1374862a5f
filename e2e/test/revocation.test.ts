// Revoked access is revoked everywhere: a demoted and disabled admin's token, or a deleted admin's,
// stops working on every service's admin routes one bus round trip after the change, and stays
// refused across a restart. Run on the in-process bus and on real Kafka.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Bus, MemoryBus } from '@mart/shared'
import { describeKafka, kafkaTestBus, waitFor } from '@mart/shared/testing'
import { type Marketplace, marketplace } from './support.ts'

/** A second admin: registered, promoted by root, logged in. */
async function secondAdmin(m: Marketplace, username: string) {
  const reg = await m.call('user', 'POST', '/api/auth/register', {
    username,
    email: `${username}@mart.test`,
    password: 'admin-password',
  })
  expect(reg.status).toBe(201)
  expect((await m.call('user', 'PATCH', `/api/users/${reg.body.id}`, { role: 'admin' }, m.root)).status).toBe(
    200,
  )
  return { id: reg.body.id as string, token: await m.login(username, 'admin-password') }
}

/**
 * The same admin actions on each service, called with `token`: the statuses, by service. With
 * `harmless` they change nothing when allowed (for polling until the revocation has arrived).
 */
async function adminCalls(m: Marketplace, token: string, ids: Ids, harmless = false) {
  const [user, product, inventory, order] = await Promise.all([
    harmless
      ? m.call('user', 'GET', `/api/users/${ids.self}`, undefined, token)
      : m.call('user', 'PATCH', `/api/users/${ids.self}`, { role: 'admin', disabled: false }, token),
    m.call(
      'product',
      'PATCH',
      `/api/products/${ids.product}`,
      { name: harmless ? 'Lamp' : 'Renamed by a revoked admin' },
      token,
    ),
    harmless
      ? m.call('inventory', 'GET', `/api/inventory/${ids.product}`, undefined, token)
      : m.call(
          'inventory',
          'POST',
          `/api/inventory/${ids.product}/adjustments`,
          { delta: -1, reason: 'written off by a revoked admin' },
          token,
        ),
    harmless
      ? m.call('order', 'GET', `/api/orders?userId=${ids.customer}`, undefined, token)
      : m.call('order', 'POST', `/api/orders/${ids.order}/cancel`, { reason: 'by a revoked admin' }, token),
  ])
  return { user: user.status, product: product.status, inventory: inventory.status, order: order.status }
}

/** The ids the admin calls act on: the admin's own, a product, a customer and the customer's order. */
interface Ids {
  self: string
  product: string
  customer: string
  order: string
}

/** Polls with harmless calls until product and inventory refuse `token`. */
const refusedEverywhere = (m: Marketplace, token: string, ids: Ids) =>
  waitFor(
    async () => {
      const s = await adminCalls(m, token, ids, true)
      return s.product === 401 && s.inventory === 401 && s.order === 401
    },
    'every service to refuse the revoked token',
    30_000,
  )

function suite(makeBus: () => Bus) {
  let m: Marketplace
  let productId: string
  let order: { customer: string; order: string }
  beforeEach(async () => {
    m = await marketplace(makeBus())
    productId = await m.createLamp(10)
    await waitFor(
      async () =>
        (await m.call('inventory', 'GET', `/api/inventory/${productId}`, undefined, m.root)).status === 200,
      'the stock item',
      30_000,
    )
    const bob = await m.customer('bob')
    const placed = await waitFor(
      () => m.placeOrder(bob, [[productId, 1]]).catch(() => null),
      'the order service to know the lamp',
      30_000,
    )
    order = { customer: bob.id, order: placed.id }
  }, 60_000)
  afterEach(() => m.stop(), 60_000)

  test("a demoted and disabled admin's old token is refused on every service's admin routes, also after a restart", async () => {
    const eve = await secondAdmin(m, 'eve')
    const ids = { self: eve.id, product: productId, ...order }
    expect(await adminCalls(m, eve.token, ids, true)).toEqual({
      user: 200,
      product: 200,
      inventory: 200,
      order: 200,
    })

    const demoted = await m.call(
      'user',
      'PATCH',
      `/api/users/${eve.id}`,
      { role: 'user', disabled: true },
      m.root,
    )
    expect(demoted.status).toBe(200)
    // The user service refuses at once; the others once user.sessions_revoked has reached them.
    expect((await adminCalls(m, eve.token, ids, true)).user).toBe(401)
    await refusedEverywhere(m, eve.token, ids)
    expect(await adminCalls(m, eve.token, ids)).toEqual({
      user: 401,
      product: 401,
      inventory: 401,
      order: 401,
    })

    // Nothing she tried changed anything.
    expect((await m.orderOf(order.order)).status).not.toBe('cancelled')
    expect((await m.call('user', 'GET', `/api/users/${eve.id}`, undefined, m.root)).body).toMatchObject({
      role: 'user',
      disabled: true,
    })
    expect((await m.call('product', 'GET', `/api/products/${productId}`)).body.name).toBe('Lamp')
    const stock = await m.call('inventory', 'GET', `/api/inventory/${productId}`, undefined, m.root)
    expect(stock.body.onHand).toBe(10)

    // The refusal is in each service's database, not only in its memory.
    await m.restart('product')
    await m.restart('inventory')
    await m.restart('order')
    expect(await adminCalls(m, eve.token, ids)).toEqual({
      user: 401,
      product: 401,
      inventory: 401,
      order: 401,
    })
  })

  test("a deleted admin's token cannot delete the seeded admin, nor act anywhere else", async () => {
    const mallory = await secondAdmin(m, 'mallory')
    const rootId = (await m.call('user', 'GET', '/api/users/me', undefined, m.root)).body.id as string
    expect((await m.call('user', 'DELETE', `/api/users/${mallory.id}`, undefined, m.root)).status).toBe(204)

    expect((await m.call('user', 'DELETE', `/api/users/${rootId}`, undefined, mallory.token)).status).toBe(
      401,
    )
    const ids = { self: mallory.id, product: productId, ...order }
    await refusedEverywhere(m, mallory.token, ids)
    expect(await adminCalls(m, mallory.token, ids)).toEqual({
      user: 401,
      product: 401,
      inventory: 401,
      order: 401,
    })
    expect((await m.call('user', 'GET', `/api/users/${rootId}`, undefined, m.root)).status).toBe(200)
    expect((await m.call('product', 'GET', `/api/products/${productId}`)).body.name).toBe('Lamp')
    // Root, never revoked, still acts everywhere.
    const rootCalls = await adminCalls(m, m.root, { self: rootId, product: productId, ...order })
    expect(rootCalls).toEqual({ user: 200, product: 200, inventory: 200, order: 200 })
  })
}

suite(() => new MemoryBus({ duplicateDelivery: true }))

describeKafka('revocation over real Kafka', (brokers) => {
  suite(() => kafkaTestBus(brokers, 'e2e-revocation'))
})
