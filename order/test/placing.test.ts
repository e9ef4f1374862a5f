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

describe('what an order is priced with', () => {
  test('lines of one product are merged, in the order they first appear', async () => {
    const res = await h.place(await h.person(), h.lines(['p2', 1], ['p1', 1], ['p2', 4]))
    expect(res.status).toBe(202)
    expect(
      res.body.lines.map((l: { productId: string; quantity: number }) => [l.productId, l.quantity]),
    ).toEqual([
      ['p2', 5],
      ['p1', 1],
    ])
    expect(res.body.total).toEqual({ amount: 5 * 250 + 1999, currency: 'EUR' })
  })

  test('a price change after placing does not change the order', async () => {
    const alice = await h.person()
    const placed = await h.place(alice, h.lines(['p1', 1]))
    await h.apply([
      'product.updated',
      {
        ...(await import('@mart/shared/testing')).sampleProduct('p1'),
        price: { amount: 5, currency: 'EUR' },
        changed: ['price'],
      },
      'p1',
    ])
    const again = await h.call('GET', `/api/orders/${placed.body.id}`, { token: alice.token })
    expect(again.body.total).toEqual({ amount: 1999, currency: 'EUR' })
    const next = await h.place(alice, h.lines(['p1', 1]))
    expect(next.body.total).toEqual({ amount: 5, currency: 'EUR' })
  })

  test('order numbers are unique and increasing', async () => {
    const alice = await h.person()
    const numbers: string[] = []
    for (let i = 0; i < 3; i++) numbers.push((await h.place(alice, h.lines(['p1', 1]))).body.number)
    expect(numbers).toEqual(['MRT-10001', 'MRT-10002', 'MRT-10003'])
  })

  test('totals are exact integers however large, and a total past what is exact is refused', async () => {
    await h.product('big', 999_999_999_999)
    const alice = await h.person()
    const ok = await h.place(alice, h.lines(['big', 9000]))
    expect(ok.body.total.amount).toBe(8_999_999_999_991_000)
    const tooMuch = await h.place(alice, h.lines(['big', 10_000]))
    expect(tooMuch.status).toBe(422)
    expect(tooMuch.body.errors).toEqual([{ path: '/body/lines', message: 'the order total is too large' }])
  })
})

describe('refusals change nothing', () => {
  const refused = async (body: unknown, token?: string) => {
    const alice = await h.person()
    const res = await h.call('POST', '/api/orders', { token: token ?? alice.token, body })
    return res
  }
  const paths = (res: { body: Record<string, unknown> }) =>
    (res.body.errors as { path: string }[]).map((e) => e.path)

  afterEach(() => {
    expect(h.count('orders')).toBe(0)
    expect(h.outbox().filter((e) => e.type === 'order.placed')).toEqual([])
  })

  test('a price or unitPrice in the body is a 422: prices come from the catalogue', async () => {
    for (const extra of [{ price: 1 }, { unitPrice: { amount: 1, currency: 'EUR' } }]) {
      const res = await refused({ lines: [{ productId: 'p1', quantity: 1, ...extra }] })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toStartWith('application/problem+json')
      expect(paths(res)).toEqual([`/body/lines/0/${Object.keys(extra)[0]}`])
    }
  })

  test('an unknown or deleted product is a 422 naming its line', async () => {
    await h.apply(['product.deleted', { id: 'p2' }, 'p2'])
    const res = await refused(h.lines(['p1', 1], ['nope', 1], ['p2', 1]))
    expect(res.status).toBe(422)
    expect(paths(res)).toEqual(['/body/lines/1/productId', '/body/lines/2/productId'])
  })

  test('an inactive product cannot be ordered', async () => {
    await h.product('off', 100, 'EUR', { active: false })
    expect(paths(await refused(h.lines(['off', 1])))).toEqual(['/body/lines/0/productId'])
  })

  test('one currency per order', async () => {
    await h.product('usd', 100, 'USD')
    const res = await refused(h.lines(['p1', 1], ['usd', 1]))
    expect(res.status).toBe(422)
    expect(res.body.errors[0]).toEqual({
      path: '/body/lines/1/productId',
      message: 'is priced in USD, and an order is paid in one currency (EUR)',
    })
  })

  test('lines: 1 to 100, quantities whole and positive', async () => {
    expect((await refused({ lines: [] })).status).toBe(422)
    expect(
      (await refused(h.lines(...Array.from({ length: 101 }, () => ['p1', 1] as [string, number])))).status,
    ).toBe(422)
    for (const quantity of [0, -1, 1.5, '2']) {
      expect((await refused({ lines: [{ productId: 'p1', quantity }] })).status).toBe(422)
    }
  })

  test('a shipping address needs a real ISO 3166-1 country', async () => {
    const address = { name: 'A', line1: '1 St', city: 'X', postalCode: '1000', country: 'XX' }
    const res = await refused({ ...h.lines(['p1', 1]), shippingAddress: address })
    expect(paths(res)).toEqual(['/body/shippingAddress/country'])
    expect(
      (await refused({ ...h.lines(['p1', 1]), shippingAddress: { ...address, country: 'fr' } })).status,
    ).toBe(422)
  })

  test('no token: 401, before the body is looked at', async () => {
    const res = await h.call('POST', '/api/orders', {
      body: { lines: [{ productId: 'p1', quantity: 1, price: 1 }] },
    })
    expect(res.status).toBe(401)
  })
})
