import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { problemTypeUri } from '@mart/shared'
import { type InventoryHarness, placed, product, startInventory } from './support.ts'

let h: InventoryHarness
let admin: string
beforeEach(async () => {
  h = await startInventory()
  admin = await h.token('admin')
  await h.apply(
    ['product.created', product('a', 10), 'a'],
    ['product.created', product('b', 3), 'b'],
    ['product.created', product('c', 0), 'c'],
    ['product.created', product('d', 40), 'd'],
    ['product.deleted', { id: 'd' }, 'd'],
    ['order.placed', placed('o1', [['a', 2]]), 'o1'],
  )
})
afterEach(() => h.stop())

const adjustedAfter = (n: number) =>
  h
    .outbox()
    .slice(n)
    .filter((e) => e.type === 'stock.adjusted' || e.type === 'stock.low')
    .map((e) => ({ type: e.type, ...e.data }))

describe('reading stock', () => {
  test('GET /api/inventory/:productId: the numbers, the status and the open reservations', async () => {
    const r = await h.call('GET', '/api/inventory/a', { token: admin })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      productId: 'a',
      onHand: 10,
      reserved: 2,
      available: 8,
      lowStockThreshold: 5,
      status: 'in_stock',
      updatedAt: expect.stringMatching(/^\d{4}-/),
      reservations: [{ orderId: 'o1', quantity: 2, reservedAt: expect.stringMatching(/^\d{4}-/) }],
    })
    expect((await h.call('GET', '/api/inventory/d', { token: admin })).body.status).toBe('discontinued')
  })

  test('GET /api/inventory pages by product id and filters by status', async () => {
    const ids: string[] = []
    let cursor: string | null = null
    for (let page = 0; page < 5; page++) {
      const qs: string = `limit=3${cursor ? `&cursor=${cursor}` : ''}`
      const r = await h.call('GET', `/api/inventory?${qs}`, { token: admin })
      expect(r.status).toBe(200)
      ids.push(...r.body.items.map((i: { productId: string }) => i.productId))
      cursor = r.body.nextCursor
      if (!cursor) break
    }
    expect(ids).toEqual(['a', 'b', 'c', 'd'])
    const byStatus = async (status: string) =>
      (await h.call('GET', `/api/inventory?status=${status}`, { token: admin })).body.items.map(
        (i: { productId: string }) => i.productId,
      )
    expect(await byStatus('in_stock')).toEqual(['a'])
    expect(await byStatus('low_stock')).toEqual(['b'])
    expect(await byStatus('out_of_stock')).toEqual(['c'])
    expect(await byStatus('discontinued')).toEqual(['d'])
  })
})

describe('adjustments and the threshold', () => {
  test('a restock and a write-off change on hand and emit stock.adjusted with the reason; crossing down emits stock.low', async () => {
    const n = h.outbox().length
    const up = await h.call('POST', '/api/inventory/b/adjustments', {
      token: admin,
      body: { delta: 7, reason: 'restock from supplier' },
    })
    expect(up.status).toBe(200)
    expect(up.body).toMatchObject({ onHand: 10, reserved: 0, available: 10, status: 'in_stock' })
    const down = await h.call('POST', '/api/inventory/b/adjustments', {
      token: admin,
      body: { delta: -6, reason: 'water damage' },
    })
    expect(down.body).toMatchObject({ onHand: 4, available: 4, status: 'low_stock' })
    expect(adjustedAfter(n)).toEqual([
      {
        type: 'stock.adjusted',
        productId: 'b',
        onHand: 10,
        reserved: 0,
        available: 10,
        lowStockThreshold: 5,
        status: 'in_stock',
        reason: 'restock from supplier',
      },
      {
        type: 'stock.adjusted',
        productId: 'b',
        onHand: 4,
        reserved: 0,
        available: 4,
        lowStockThreshold: 5,
        status: 'low_stock',
        reason: 'water damage',
      },
      { type: 'stock.low', productId: 'b', available: 4, lowStockThreshold: 5 },
    ])
  })

  test('a write-off below what orders hold is a 409 and changes nothing', async () => {
    const n = h.outbox().length
    const r = await h.call('POST', '/api/inventory/a/adjustments', {
      token: admin,
      body: { delta: -9, reason: 'stolen' },
    })
    expect(r.status).toBe(409)
    expect(r.body.type).toBe(problemTypeUri('conflict'))
    expect(r.headers.get('content-type')).toContain('application/problem+json')
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 2 })
    expect(h.outbox().length).toBe(n)
    // Down to exactly what is reserved is fine.
    const ok = await h.call('POST', '/api/inventory/a/adjustments', {
      token: admin,
      body: { delta: -8, reason: 'stolen' },
    })
    expect(ok.body).toMatchObject({ onHand: 2, reserved: 2, available: 0, status: 'out_of_stock' })
  })

  test('PATCH lowStockThreshold changes the status; raising it over what is available emits stock.low', async () => {
    const n = h.outbox().length
    const r = await h.call('PATCH', '/api/inventory/a', { token: admin, body: { lowStockThreshold: 8 } })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ lowStockThreshold: 8, available: 8, status: 'low_stock' })
    expect(adjustedAfter(n).map((e) => e.type)).toEqual(['stock.adjusted', 'stock.low'])
    // The same value again: nothing to announce.
    await h.call('PATCH', '/api/inventory/a', { token: admin, body: { lowStockThreshold: 8 } })
    expect(adjustedAfter(n)).toHaveLength(2)
  })
})

describe('refusals', () => {
  test('no token or a bad one: 401; a user token: 403, before the input is even looked at', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/inventory'],
      ['GET', '/api/inventory/a'],
      ['POST', '/api/inventory/a/adjustments', { delta: 1, reason: 'x' }],
      ['PATCH', '/api/inventory/a', { lowStockThreshold: 1 }],
      ['PATCH', '/api/inventory/a', { lowStockThreshold: 'bad' }],
    ]
    const user = await h.token('user')
    const foreign = await h.token('admin', { aud: 'someone-else' })
    for (const [method, path, body] of routes) {
      const none = await h.call(method, path, { body })
      expect(none.status).toBe(401)
      expect(none.headers.get('www-authenticate')).toBe('Bearer')
      expect((await h.call(method, path, { body, token: foreign })).status).toBe(401)
      const forbidden = await h.call(method, path, { body, token: user })
      expect(forbidden.status).toBe(403)
      expect(forbidden.body.type).toBe(problemTypeUri('forbidden'))
    }
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 2, threshold: 5 })
  })

  test('an unknown product: 404', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/inventory/nope'],
      ['POST', '/api/inventory/nope/adjustments', { delta: 1, reason: 'x' }],
      ['PATCH', '/api/inventory/nope', { lowStockThreshold: 1 }],
    ] as [string, string, unknown?][]) {
      const r = await h.call(method, path, { body, token: admin })
      expect(r.status).toBe(404)
      expect(r.body.type).toBe(problemTypeUri('not-found'))
    }
  })

  test('invalid input: 422 with the field', async () => {
    const invalid: [string, string, unknown?][] = [
      ['POST', '/api/inventory/a/adjustments', { delta: 0, reason: 'nothing' }],
      ['POST', '/api/inventory/a/adjustments', { delta: 1.5, reason: 'half' }],
      ['POST', '/api/inventory/a/adjustments', { delta: 2_000_000, reason: 'too many' }],
      ['POST', '/api/inventory/a/adjustments', { delta: 1 }],
      ['POST', '/api/inventory/a/adjustments', { delta: 1, reason: '' }],
      ['POST', '/api/inventory/a/adjustments', { delta: 1, reason: 'x'.repeat(201) }],
      ['PATCH', '/api/inventory/a', { lowStockThreshold: -1 }],
      ['PATCH', '/api/inventory/a', {}],
      ['GET', '/api/inventory?status=sold_out'],
      ['GET', '/api/inventory?limit=0'],
      ['GET', '/api/inventory?limit=101'],
      ['GET', '/api/inventory?cursor=!!!'],
      ['GET', `/api/inventory/${'x'.repeat(65)}`],
    ]
    for (const [method, path, body] of invalid) {
      const r = await h.call(method, path, { body, token: admin })
      expect({ method, path, body, status: r.status }).toEqual({ method, path, body, status: 422 })
      expect(r.body.type).toBe(problemTypeUri('validation'))
    }
    expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 2, threshold: 5 })
  })
})

test('list query: integers in decimal digits only, and a status outside the list says which are allowed', async () => {
  for (const limit of ['0x10', '1e1', '%20%205']) {
    const r = await h.call('GET', `/api/inventory?limit=${limit}`, { token: admin })
    expect({ limit, status: r.status }).toEqual({ limit, status: 422 })
    expect(r.body.errors).toEqual([{ path: '/query/limit', message: 'must be an integer in decimal digits' }])
  }
  const status = await h.call('GET', '/api/inventory?status=sold_out', { token: admin })
  expect(status.body.errors).toEqual([
    { path: '/query/status', message: 'must be one of: in_stock, low_stock, out_of_stock, discontinued' },
  ])
})

test('GET /docs/json documents the four admin routes, each behind the bearer token and the admin role', async () => {
  const r = await h.call('GET', '/docs/json')
  expect(r.status).toBe(200)
  const paths = r.body.paths as Record<
    string,
    Record<string, { security?: unknown[]; responses: Record<string, unknown> }>
  >
  const routes = Object.entries(paths)
    .filter(([p]) => p.startsWith('/api/inventory'))
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
    .sort()
  expect(routes).toEqual([
    'GET /api/inventory',
    'GET /api/inventory/{productId}',
    'PATCH /api/inventory/{productId}',
    'POST /api/inventory/{productId}/adjustments',
  ])
  for (const ops of Object.values(paths))
    for (const op of Object.values(ops)) {
      expect(op.security).toBeDefined()
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '422']))
    }
  // What only this route can answer: on hand below what orders hold.
  expect(Object.keys(paths['/api/inventory/{productId}/adjustments']?.post?.responses ?? {}).sort()).toEqual([
    '200',
    '400',
    '401',
    '403',
    '404',
    '409',
    '413',
    '415',
    '422',
  ])
})
