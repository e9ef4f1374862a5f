import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { type OrderHarness, reserved, startOrder } from './support.ts'

let h: OrderHarness
beforeEach(async () => {
  h = await startOrder()
  await h.product('p1', 1999)
})
afterEach(() => h.stop())

const get = (path: string, token: string) => h.call('GET', path, { token })

describe('GET /api/orders/:id', () => {
  test('the owner and an admin see it; anyone else gets 404, never 403', async () => {
    const [alice, bob, admin] = [await h.person(), await h.person(), await h.person('admin')]
    const { body } = await h.place(alice, h.lines(['p1', 1]))
    expect((await get(`/api/orders/${body.id}`, alice.token)).body).toEqual(body)
    expect((await get(`/api/orders/${body.id}`, admin.token)).status).toBe(200)
    const other = await get(`/api/orders/${body.id}`, bob.token)
    expect(other.status).toBe(404)
    const unknown = await get('/api/orders/no-such-order', bob.token)
    // The same answer as for an order that does not exist: nothing says it does.
    const same = (b: Record<string, unknown>) => ({ ...b, instance: undefined, requestId: undefined })
    expect(same(other.body)).toEqual(same(unknown.body))
    expect((await h.call('GET', `/api/orders/${body.id}`)).status).toBe(401)
  })
})

describe('GET /api/orders', () => {
  test("a user's own orders, newest first, page by page", async () => {
    const [alice, bob] = [await h.person(), await h.person()]
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await h.place(alice, h.lines(['p1', 1]))).body.id)
    await h.place(bob, h.lines(['p1', 1]))
    const first = await get('/api/orders?limit=2', alice.token)
    expect(first.body.items.map((o: { id: string }) => o.id)).toEqual([ids[4], ids[3]])
    const seen = [...first.body.items]
    let cursor = first.body.nextCursor
    while (cursor) {
      const page = await get(`/api/orders?limit=2&cursor=${cursor}`, alice.token)
      seen.push(...page.body.items)
      cursor = page.body.nextCursor
    }
    expect(seen.map((o) => o.id)).toEqual([...ids].reverse())
  })

  test('filtered by status', async () => {
    const alice = await h.person()
    const a = (await h.place(alice, h.lines(['p1', 1]))).body.id
    await h.place(alice, h.lines(['p1', 1]))
    await h.apply(['stock.reserved', reserved(a), a])
    const unpaid = await get('/api/orders?status=unpaid', alice.token)
    expect(unpaid.body.items.map((o: { id: string }) => o.id)).toEqual([a])
    expect((await get('/api/orders?status=lost', alice.token)).status).toBe(422)
  })

  test("an admin sees everyone's, or one user's; a user asking for another's gets 403", async () => {
    const [alice, bob, admin] = [await h.person(), await h.person(), await h.person('admin')]
    await h.place(alice, h.lines(['p1', 1]))
    await h.place(bob, h.lines(['p1', 1]))
    expect((await get('/api/orders', admin.token)).body.items).toHaveLength(2)
    const bobs = await get(`/api/orders?userId=${bob.id}`, admin.token)
    expect(bobs.body.items.map((o: { userId: string }) => o.userId)).toEqual([bob.id])
    expect((await get(`/api/orders?userId=${bob.id}`, alice.token)).status).toBe(403)
    expect((await get(`/api/orders?userId=${alice.id}`, alice.token)).body.items).toHaveLength(1)
  })

  test('a cursor this list did not make is a 422', async () => {
    const alice = await h.person()
    expect((await get('/api/orders?cursor=bogus', alice.token)).status).toBe(422)
  })
})

describe('GET /api/orders/:id/timeline', () => {
  test('every input in order, with its source, ids and the change it made', async () => {
    const alice = await h.person()
    const { body } = await h.place(alice, h.lines(['p1', 1]))
    const [event] = await h.apply(['stock.reserved', reserved(body.id), body.id])
    const res = await get(`/api/orders/${body.id}/timeline`, alice.token)
    const emitted = h.outbox()
    expect(res.body.items).toEqual([
      {
        type: 'order.placed',
        source: 'order',
        eventId: emitted[0]?.id,
        causationId: null,
        actorId: alice.id,
        at: body.createdAt,
        from: null,
        to: 'pending',
        outcome: 'moved',
        reason: null,
        emitted: [{ type: 'order.placed', id: emitted[0]?.id }],
      },
      {
        type: 'stock.reserved',
        source: 'inventory',
        eventId: event?.id,
        causationId: null,
        actorId: null,
        at: expect.any(String),
        from: 'pending',
        to: 'unpaid',
        outcome: 'moved',
        reason: null,
        emitted: [{ type: 'order.awaiting_payment', id: emitted[1]?.id }],
      },
    ])
  })

  test("someone else's timeline is a 404", async () => {
    const [alice, bob] = [await h.person(), await h.person()]
    const { body } = await h.place(alice, h.lines(['p1', 1]))
    expect((await get(`/api/orders/${body.id}/timeline`, bob.token)).status).toBe(404)
  })
})

describe('/docs', () => {
  test('every route is documented, with its refusals', async () => {
    const doc = (await h.call('GET', '/docs/json')).body
    const paths = Object.keys(doc.paths)
    for (const p of [
      '/api/orders',
      '/api/orders/{id}',
      '/api/orders/{id}/timeline',
      '/api/orders/{id}/cancel',
      '/api/orders/{id}/ship',
      '/api/orders/{id}/deliver',
    ]) {
      expect(paths).toContain(p)
    }
    expect(Object.keys(doc.paths['/api/orders'].post.responses)).toEqual(
      expect.arrayContaining(['202', '401', '422']),
    )
    expect(Object.keys(doc.paths['/api/orders/{id}/cancel'].post.responses)).toEqual(
      expect.arrayContaining(['200', '404', '409']),
    )
  })
})
