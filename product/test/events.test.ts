import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { waitFor } from '@mart/shared/testing'
import { type ProductEvent, type ProductHarness, startProduct } from './support.ts'

let p: ProductHarness
beforeEach(async () => {
  p = await startProduct()
})
afterEach(() => p.stop())

/** Waits for the one event of `type` about `subject` matching `match`, and answers it. */
const eventOf = (
  type: ProductEvent['type'],
  subject: string,
  match: (e: ProductEvent) => boolean = () => true,
) =>
  waitFor(
    () => p.events().find((e) => e.type === type && e.subject === subject && match(e)),
    `${type} for ${subject}`,
  )

const of = (subject: string) => p.events().filter((e) => e.subject === subject)

describe('events on product.events', () => {
  test('POST emits product.created with initialStock, keyed by the product id, correlated with the request', async () => {
    const r = await p.call('POST', '/api/products', {
      token: p.admin,
      headers: { 'x-request-id': 'req-create-cup' },
      body: {
        name: 'Cup',
        description: 'Blue',
        price: { amount: 450, currency: 'GBP' },
        sku: 'CUP-1',
        initialStock: 7,
      },
    })
    expect(r.status).toBe(201)
    const e = await eventOf('product.created', r.body.id)
    expect(e).toMatchObject({
      type: 'product.created',
      version: 1,
      source: 'product',
      correlationId: 'req-create-cup',
    })
    expect(e.data).toEqual({
      id: r.body.id,
      name: 'Cup',
      description: 'Blue',
      price: { amount: 450, currency: 'GBP' },
      sku: 'CUP-1',
      imageUrl: null,
      active: true,
      initialStock: 7,
    })
    const d = p.deliveries().find((m) => JSON.parse(m.value).id === e.id)
    expect(d?.topic).toBe('product.events')
    expect(d?.key).toBe(r.body.id)
  })

  test('without initialStock, product.created says 0', async () => {
    const a = await p.create()
    expect((await eventOf('product.created', a.id)).data).toMatchObject({ initialStock: 0 })
  })

  test('PATCH emits product.updated naming what changed, with the whole new state and price', async () => {
    const a = await p.create({ sku: 'S-1' })
    await p.call('PATCH', `/api/products/${a.id}`, {
      token: p.admin,
      headers: { 'x-request-id': 'req-reprice' },
      body: {
        name: 'Widget',
        price: { amount: 2999, currency: 'EUR' },
        imageUrl: 'https://img.example.com/w.png',
      },
    })
    const e = await eventOf('product.updated', a.id)
    expect(e.correlationId).toBe('req-reprice')
    expect(e.data).toEqual({
      id: a.id,
      name: 'Widget',
      description: 'A widget',
      price: { amount: 2999, currency: 'EUR' },
      sku: 'S-1',
      imageUrl: 'https://img.example.com/w.png',
      active: true,
      // name was given but is the same: not a change.
      changed: ['price', 'imageUrl'],
    })
  })

  test('a PATCH that changes nothing, and refused changes, emit nothing', async () => {
    await p.create({ sku: 'TAKEN' })
    const a = await p.create({ sku: 'MINE' })
    expect(
      (await p.call('PATCH', `/api/products/${a.id}`, { token: p.admin, body: { name: 'Widget' } })).status,
    ).toBe(200)
    expect((await p.call('PATCH', `/api/products/${a.id}`, { token: p.admin, body: {} })).status).toBe(200)
    expect(
      (await p.call('PATCH', `/api/products/${a.id}`, { token: p.admin, body: { sku: 'TAKEN' } })).status,
    ).toBe(409)
    // A real change on the same key comes after anything the others could have emitted.
    await p.call('PATCH', `/api/products/${a.id}`, { token: p.admin, body: { description: 'New' } })
    await eventOf('product.updated', a.id)
    expect(of(a.id).map((e) => e.type)).toEqual(['product.created', 'product.updated'])
    expect(of(a.id)[1]?.data).toMatchObject({ changed: ['description'] })
  })

  test('DELETE emits product.deleted once; a second DELETE (404) emits nothing', async () => {
    const a = await p.create()
    await p.call('DELETE', `/api/products/${a.id}`, {
      token: p.admin,
      headers: { 'x-request-id': 'req-del' },
    })
    expect((await p.call('DELETE', `/api/products/${a.id}`, { token: p.admin })).status).toBe(404)
    const e = await eventOf('product.deleted', a.id)
    expect(e.data).toEqual({ id: a.id })
    expect(e.correlationId).toBe('req-del')
    const b = await p.create()
    await eventOf('product.created', b.id)
    expect(of(a.id).map((x) => x.type)).toEqual(['product.created', 'product.deleted'])
  })

  test('refused creates (422, 409, 403) emit nothing', async () => {
    const first = await p.create({ sku: 'ONE' })
    const user = await p.token('user')
    const base = { name: 'x', price: { amount: 1, currency: 'EUR' } }
    expect(
      (await p.call('POST', '/api/products', { token: p.admin, body: { ...base, sku: 'one' } })).status,
    ).toBe(409)
    expect(
      (
        await p.call('POST', '/api/products', {
          token: p.admin,
          body: { ...base, price: { amount: -1, currency: 'EUR' } },
        })
      ).status,
    ).toBe(422)
    expect((await p.call('POST', '/api/products', { token: user, body: base })).status).toBe(403)
    const last = await p.create({ name: 'Last' })
    await eventOf('product.created', first.id)
    await eventOf('product.created', last.id)
    const names = p.events().map((e) => (e.type === 'product.created' ? e.data.name : e.type))
    expect(names.sort()).toEqual(['Last', 'Widget'])
  })
})
