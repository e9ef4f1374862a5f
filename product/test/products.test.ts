import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { problemTypeUri } from '@mart/shared'
import { waitFor } from '@mart/shared/testing'
import { type ProductHarness, startProduct } from './support.ts'

let p: ProductHarness
beforeEach(async () => {
  p = await startProduct()
})
afterEach(() => p.stop())

const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000'

describe('create, read, change', () => {
  test('POST answers 201 with the product; GET finds it without a token', async () => {
    const r = await p.call('POST', '/api/products', {
      token: p.admin,
      body: {
        name: 'Espresso cup',
        description: 'Porcelain, 80 ml',
        price: { amount: 1250, currency: 'EUR' },
        sku: 'CUP-80',
        imageUrl: 'https://img.example.com/cup.png',
        initialStock: 12,
      },
    })
    expect(r.status).toBe(201)
    expect(r.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Espresso cup',
      description: 'Porcelain, 80 ml',
      price: { amount: 1250, currency: 'EUR' },
      sku: 'CUP-80',
      imageUrl: 'https://img.example.com/cup.png',
      stock: { status: 'in_stock', available: 12 },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    const got = await p.call('GET', `/api/products/${r.body.id}`)
    expect(got.status).toBe(200)
    expect(got.body).toEqual(r.body)
  })

  test('optional fields default: empty description, no sku or image, out of stock with 0', async () => {
    const r = await p.call('POST', '/api/products', {
      token: p.admin,
      body: { name: 'Bare', price: { amount: 0, currency: 'USD' } },
    })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({
      description: '',
      sku: null,
      imageUrl: null,
      price: { amount: 0, currency: 'USD' },
      stock: { status: 'out_of_stock', available: 0 },
    })
  })

  test('PATCH changes only what is given; null clears sku and imageUrl', async () => {
    const a = await p.create({ sku: 'A-1', imageUrl: 'https://img.example.com/a.png' })
    const r = await p.call('PATCH', `/api/products/${a.id}`, {
      token: p.admin,
      body: { price: { amount: 2500, currency: 'EUR' }, sku: null, imageUrl: null },
    })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      name: 'Widget',
      description: 'A widget',
      price: { amount: 2500, currency: 'EUR' },
      sku: null,
      imageUrl: null,
    })
    expect(Date.parse(r.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(a.updatedAt))
    expect((await p.call('GET', `/api/products/${a.id}`)).body).toEqual(r.body)
  })

  test('SKU is unique, case-insensitively: 409 on POST and on PATCH', async () => {
    await p.create({ sku: 'SKU-1' })
    const b = await p.create({ sku: 'SKU-2' })
    const dup = await p.call('POST', '/api/products', {
      token: p.admin,
      body: { name: 'Again', price: { amount: 1, currency: 'EUR' }, sku: 'sku-1' },
    })
    expect(dup.status).toBe(409)
    expect(dup.body.type).toBe(problemTypeUri('conflict'))
    const clash = await p.call('PATCH', `/api/products/${b.id}`, { token: p.admin, body: { sku: 'SKU-1' } })
    expect(clash.status).toBe(409)
    expect((await p.call('GET', `/api/products/${b.id}`)).body.sku).toBe('SKU-2')
    // Setting a product's own SKU again is no clash.
    expect(
      (await p.call('PATCH', `/api/products/${b.id}`, { token: p.admin, body: { sku: 'SKU-2' } })).status,
    ).toBe(200)
  })

  test('unknown ids answer 404 on GET, PATCH and DELETE; a malformed id 422', async () => {
    expect((await p.call('GET', `/api/products/${UNKNOWN_ID}`)).status).toBe(404)
    expect(
      (await p.call('PATCH', `/api/products/${UNKNOWN_ID}`, { token: p.admin, body: { name: 'x' } })).status,
    ).toBe(404)
    expect((await p.call('DELETE', `/api/products/${UNKNOWN_ID}`, { token: p.admin })).status).toBe(404)
    const bad = await p.call('GET', '/api/products/not-an-id')
    expect(bad.status).toBe(422)
    expect(bad.body.type).toBe(problemTypeUri('validation'))
  })
})

describe('soft delete', () => {
  test('a deleted product is gone from GET (404) and the list, and its SKU is free again', async () => {
    const a = await p.create({ sku: 'GONE-1' })
    const b = await p.create({ name: 'Stays', description: 'Another thing' })
    const del = await p.call('DELETE', `/api/products/${a.id}`, { token: p.admin })
    expect(del.status).toBe(204)
    expect((await p.call('GET', `/api/products/${a.id}`)).status).toBe(404)
    expect((await p.call('GET', '/api/products')).body.items.map((x: { id: string }) => x.id)).toEqual([b.id])
    expect((await p.call('GET', '/api/products?q=widget')).body.items).toEqual([])
    expect(
      (await p.call('PATCH', `/api/products/${a.id}`, { token: p.admin, body: { name: 'x' } })).status,
    ).toBe(404)
    expect((await p.call('DELETE', `/api/products/${a.id}`, { token: p.admin })).status).toBe(404)
    await p.create({ sku: 'GONE-1' })
  })
})

describe('validation', () => {
  const post = (body: unknown) => p.call('POST', '/api/products', { token: p.admin, body })
  const valid = { name: 'Widget', price: { amount: 100, currency: 'EUR' } }

  test('money: negative, fractional, string or missing amounts and non-ISO currencies are 422', async () => {
    const prices: unknown[] = [
      { amount: -1, currency: 'EUR' },
      { amount: 19.99, currency: 'EUR' },
      { amount: '1999', currency: 'EUR' },
      { currency: 'EUR' },
      { amount: 100, currency: 'eur' },
      { amount: 100, currency: 'EURO' },
      { amount: 100, currency: 'ABC' },
      { amount: 100 },
      100,
    ]
    for (const price of prices) {
      const r = await post({ ...valid, price })
      expect({ price, status: r.status }).toEqual({ price, status: 422 })
      expect(r.body.type).toBe(problemTypeUri('validation'))
      expect(r.body.errors.length).toBeGreaterThan(0)
    }
    const a = await p.create()
    for (const price of [
      { amount: -5, currency: 'EUR' },
      { amount: 0.5, currency: 'EUR' },
      { amount: 1, currency: 'QQQ' },
    ]) {
      const r = await p.call('PATCH', `/api/products/${a.id}`, { token: p.admin, body: { price } })
      expect({ price, status: r.status }).toEqual({ price, status: 422 })
    }
    expect((await p.call('GET', `/api/products/${a.id}`)).body.price).toEqual({
      amount: 1999,
      currency: 'EUR',
    })
  })

  test('other fields: name, sku, imageUrl and initialStock are bounded', async () => {
    const bodies: unknown[] = [
      { price: valid.price },
      { ...valid, name: '' },
      { ...valid, name: 'x'.repeat(201) },
      { ...valid, description: 'x'.repeat(10_001) },
      { ...valid, sku: '' },
      { ...valid, sku: 'has space' },
      { ...valid, imageUrl: 'not a url' },
      { ...valid, imageUrl: 'javascript:alert(1)' },
      { ...valid, initialStock: -1 },
      { ...valid, initialStock: 1.5 },
    ]
    for (const body of bodies) {
      const r = await post(body)
      expect({ body, status: r.status }).toEqual({ body, status: 422 })
    }
    expect((await p.call('GET', '/api/products')).body.items).toEqual([])
  })

  test('a body of 50,000 nested arrays or objects is a 400 problem, and nothing is created', async () => {
    for (const rawJson of [
      `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
      `${'{"name":'.repeat(50_000)}1${'}'.repeat(50_000)}`,
    ]) {
      const r = await p.call('POST', '/api/products', { token: p.admin, rawJson })
      expect(r.status).toBe(400)
      expect(r.headers.get('content-type')).toBe('application/problem+json')
      expect(r.body.type).toBe(problemTypeUri('bad-request'))
    }
    expect((await p.call('GET', '/api/products')).body.items).toEqual([])
  })

  test('list query: bad limit, sort, prices, inStock and cursors are 422', async () => {
    for (const qs of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'sort=cheapest',
      'minPrice=-1',
      'maxPrice=1.5',
      'minPrice=500&maxPrice=100',
      'inStock=maybe',
      'cursor=garbage',
      `cursor=${Buffer.from('["newest","x"]').toString('base64url')}`,
    ]) {
      const r = await p.call('GET', `/api/products?${qs}`)
      expect({ qs, status: r.status }).toEqual({ qs, status: 422 })
    }
  })
})

describe('list query numbers', () => {
  test('decimal digits only: 0x10, 1e1, padded or signed numbers are a 422 naming the parameter', async () => {
    for (const [name, value] of [
      ['limit', '0x10'],
      ['limit', '%20%205'],
      ['minPrice', '1e1'],
      ['maxPrice', '+100'],
      ['maxPrice', '0x10'],
    ] as const) {
      const r = await p.call('GET', `/api/products?${name}=${value}`)
      expect({ name, value, status: r.status }).toEqual({ name, value, status: 422 })
      expect(r.body.errors).toEqual([
        { path: `/query/${name}`, message: 'must be an integer in decimal digits' },
      ])
    }
  })

  test('a sort outside the list says which sorts there are', async () => {
    const r = await p.call('GET', '/api/products?sort=cheapest')
    expect(r.body.errors).toEqual([
      { path: '/query/sort', message: 'must be one of: newest, price_asc, price_desc' },
    ])
  })

  test('/docs/json shows each query integer with its bounds', async () => {
    const spec = (await p.call('GET', '/docs/json')).body
    const params = Object.fromEntries(
      (spec.paths['/api/products'].get.parameters as { name: string; schema: object }[]).map((x) => [
        x.name,
        x.schema,
      ]),
    )
    expect(params.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 })
    expect(params.minPrice).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000_000_000 })
    expect(params.maxPrice).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000_000_000 })
  })
})

describe('names, descriptions and image URLs', () => {
  const valid = { name: 'Widget', price: { amount: 100, currency: 'EUR' } }
  /** Rows in the catalogue and events staged in the outbox: what a rejected request must not add to. */
  const footprint = () =>
    p.svc.store.sqlite
      .prepare(
        'SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM mart_outbox) AS events',
      )
      .get()

  /** POSTs and PATCHes each value of `field`: every one a 422 naming the field, nothing stored or emitted. */
  async function rejected(field: string, values: string[]) {
    const existing = await p.create({
      name: 'Kept',
      description: 'Kept',
      imageUrl: 'https://img.example.com/k.png',
    })
    const before = footprint()
    for (const value of values) {
      for (const r of [
        await p.call('POST', '/api/products', { token: p.admin, body: { ...valid, [field]: value } }),
        await p.call('PATCH', `/api/products/${existing.id}`, { token: p.admin, body: { [field]: value } }),
      ]) {
        expect({ value, status: r.status, type: r.body.type }).toEqual({
          value,
          status: 422,
          type: problemTypeUri('validation'),
        })
        expect({ value, paths: r.body.errors.map((e: { path: string }) => e.path) }).toEqual({
          value,
          paths: [`/body/${field}`],
        })
      }
    }
    expect(footprint()).toEqual(before)
    expect((await p.call('GET', `/api/products/${existing.id}`)).body).toEqual(existing)
  }

  test('names are trimmed on create and on update; surrounding spaces alone change nothing', async () => {
    const r = await p.call('POST', '/api/products', {
      token: p.admin,
      body: { ...valid, name: '  Lamp \u00a0' },
    })
    expect(r.status).toBe(201)
    expect(r.body.name).toBe('Lamp')
    const before = footprint()
    const same = await p.call('PATCH', `/api/products/${r.body.id}`, {
      token: p.admin,
      body: { name: ' Lamp ' },
    })
    expect(same.body.name).toBe('Lamp')
    expect(footprint()).toEqual(before)
    const renamed = await p.call('PATCH', `/api/products/${r.body.id}`, {
      token: p.admin,
      body: { name: 'Desk lamp  ' },
    })
    expect(renamed.body.name).toBe('Desk lamp')
    await waitFor(() => p.events().length === 2, 'the events of the create and the rename')
    expect(p.events().map((e) => [e.type, 'name' in e.data ? e.data.name : undefined])).toEqual([
      ['product.created', 'Lamp'],
      ['product.updated', 'Desk lamp'],
    ])
  })

  test('a blank name, or one with control, format or line-separator characters or a lone surrogate, is a 422', async () => {
    await rejected('name', [
      '   ',
      '\u00a0\u3000',
      '\u200b',
      'Lamp\u200b',
      '\ufeffLamp',
      'Lamp\u202egnp.exe',
      'Lamp\u0007',
      'Lamp\u0000',
      'Lamp\nshade',
      'Lamp\tshade',
      'Lamp\u2028shade',
      'Lamp\u2029',
      'Lamp\ud800',
      '\udc00',
    ])
  })

  test('zero-width (non-)joiners between two visible characters are text: Persian, Indic and emoji names', async () => {
    for (const name of [
      '\u0645\u06cc\u200c\u062e\u0648\u0627\u0645', // Persian "mi-khaham": ZWNJ inside the word
      '\u0915\u094d\u200d\u0937', // Devanagari half form: ZWJ after a virama (a mark)
      'Family pack \u{1f468}\u200d\u{1f469}\u200d\u{1f467}', // one emoji from three, joined by ZWJ
    ]) {
      const r = await p.call('POST', '/api/products', { token: p.admin, body: { ...valid, name } })
      expect({ name, status: r.status }).toEqual({ name, status: 201 })
      expect(r.body.name).toBe(name)
    }
    // Not joining anything, they are invisible characters like any other.
    await rejected('name', [
      '\u200d',
      '\u200cLamp',
      'Lamp\u200d',
      'Lamp \u200c shade',
      'Lamp\u200c\u200cshade',
    ])
  })

  test('a description keeps newlines and tabs, and refuses other control and format characters', async () => {
    const text = 'Porcelain.\n\n\tDishwasher safe.\r\nMade in Limoges.'
    const r = await p.call('POST', '/api/products', { token: p.admin, body: { ...valid, description: text } })
    expect(r.status).toBe(201)
    expect(r.body.description).toBe(text)
    await rejected('description', [
      'Bell\u0007',
      'Carriage\rreturn',
      'Escape \u001b[31mred',
      'Zero\u200bwidth',
      'Right\u202eto left',
      'Line\u2028separator',
      'Lone \ud800 surrogate',
    ])
  })

  test('an image URL is http or https, with a host and without credentials', async () => {
    for (const imageUrl of [
      'https://img.example.com/cup.png',
      'http://127.0.0.1:8080/cup.png?size=2#top',
      'HTTPS://IMG.example.com/cup.png',
      'https://xn--bcher-kva.example/umschlag%20gro%C3%9F.png',
      'https://[::1]/cup.png',
    ]) {
      const r = await p.call('POST', '/api/products', { token: p.admin, body: { ...valid, imageUrl } })
      expect({ imageUrl, status: r.status }).toEqual({ imageUrl, status: 201 })
      expect(r.body.imageUrl).toBe(imageUrl)
    }
    await rejected('imageUrl', [
      'https://',
      'http://',
      'https://:443/cup.png',
      'https:img.example.com/cup.png',
      'http:///img.example.com/cup.png',
      '//img.example.com/cup.png',
      'https://user:pass@img.example.com/cup.png',
      'https://user@img.example.com/cup.png',
      'https://@img.example.com/cup.png',
      'https://evil.example\\@img.example.com/cup.png',
      'https://img.example.com/a cup.png',
      'https://img.example.com/100%.png',
      'https://bücher.example/umschlag.png',
      'https://img.example.com/<script>.png',
      'https://img.exa\nmple.com/cup.png',
      ' https://img.example.com/cup.png',
      'ftp://img.example.com/cup.png',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:image/png;base64,AAAA',
      'not a url',
    ])
  })
})

type Listed = { id: string; name: string; price: { amount: number } }

/** Every product the list gives for `query`, following nextCursor page by page. */
async function listAll(query: string, pageSize: number): Promise<Listed[][]> {
  const pages: Listed[][] = []
  let cursor: string | null = null
  for (let i = 0; i < 50; i++) {
    const qs = `limit=${pageSize}${query ? `&${query}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const r = await p.call('GET', `/api/products?${qs}`)
    expect(r.status).toBe(200)
    expect(r.body.items.length).toBeLessThanOrEqual(pageSize)
    pages.push(r.body.items)
    cursor = r.body.nextCursor
    if (cursor === null) return pages
  }
  throw new Error('nextCursor never became null')
}

describe('pagination', () => {
  // Prices with ties, so the id tiebreak in the cursor matters.
  const prices = [500, 100, 300, 100, 500, 200, 100, 300, 400, 500, 200]
  let ids: string[]
  beforeEach(async () => {
    ids = []
    for (const [i, amount] of prices.entries()) {
      ids.push((await p.create({ name: `Item ${i}`, price: { amount, currency: 'EUR' } })).id)
    }
  })

  const expected = {
    newest: () => [...ids].reverse(),
    price_asc: () =>
      ids
        .map((id, i) => ({ id, amount: prices[i] as number }))
        .sort((a, b) => a.amount - b.amount || (a.id < b.id ? -1 : 1))
        .map((x) => x.id),
    price_desc: () =>
      ids
        .map((id, i) => ({ id, amount: prices[i] as number }))
        .sort((a, b) => b.amount - a.amount || (a.id < b.id ? 1 : -1))
        .map((x) => x.id),
  }

  for (const sort of ['newest', 'price_asc', 'price_desc'] as const) {
    for (const size of [1, 3, 4, 11, 100]) {
      test(`sort=${sort}, ${size} a page: every product once, in order`, async () => {
        const pages = await listAll(sort === 'newest' ? '' : `sort=${sort}`, size)
        expect(pages.flat().map((x) => x.id)).toEqual(expected[sort]())
        expect(pages.length).toBe(Math.max(1, Math.ceil(prices.length / size)))
      })
    }
  }

  test('a cursor holds its sort: using it with another sort is a 422', async () => {
    const first = await p.call('GET', '/api/products?limit=2&sort=price_asc')
    const cursor = encodeURIComponent(first.body.nextCursor)
    expect((await p.call('GET', `/api/products?limit=2&sort=price_asc&cursor=${cursor}`)).status).toBe(200)
    expect((await p.call('GET', `/api/products?limit=2&sort=price_desc&cursor=${cursor}`)).status).toBe(422)
    expect((await p.call('GET', `/api/products?limit=2&cursor=${cursor}`)).status).toBe(422)
  })

  test('products deleted between pages are skipped, never repeated', async () => {
    const first = await p.call('GET', '/api/products?limit=4&sort=price_asc')
    const seen: string[] = first.body.items.map((x: Listed) => x.id)
    const rest = expected.price_asc().filter((id) => !seen.includes(id))
    await p.call('DELETE', `/api/products/${rest[0]}`, { token: p.admin })
    const r = await p.call(
      'GET',
      `/api/products?limit=100&sort=price_asc&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    )
    expect(r.body.items.map((x: Listed) => x.id)).toEqual(rest.slice(1))
  })

  test('price filters bound the amount (inclusive) and page like the rest', async () => {
    const pages = await listAll('minPrice=200&maxPrice=400&sort=price_desc', 2)
    const amounts = pages.flat().map((x) => x.price.amount)
    expect(amounts).toEqual([400, 300, 300, 200, 200])
    expect((await listAll('maxPrice=100', 10)).flat().length).toBe(3)
    expect((await listAll('minPrice=501', 10)).flat()).toEqual([])
  })

  test('currency keeps prices of one currency: 300 yen and 300 euro cents are not the same price', async () => {
    const yen = await p.create({ name: 'Onigiri', price: { amount: 300, currency: 'JPY' } })
    const inYen = (await listAll('currency=JPY&minPrice=300&maxPrice=300', 10)).flat()
    expect(inYen.map((x) => x.id)).toEqual([yen.id])
    const inEuro = (await listAll('currency=EUR&minPrice=300&maxPrice=300', 10)).flat()
    expect(inEuro.map((x) => x.price.amount)).toEqual([300, 300])
    expect(inEuro.map((x) => x.id)).not.toContain(yen.id)
    expect((await p.call('GET', '/api/products?currency=eur')).status).toBe(422)
  })
})

describe('search', () => {
  beforeEach(async () => {
    await p.create({ name: 'Red running shoe', description: 'Light, for the road' })
    await p.create({ name: 'Blue sandal', description: 'For the beach; pairs with a red towel' })
    await p.create({ name: 'Café crème mug', description: 'Stoneware' })
    await p.create({ name: 'AND gate kit', description: 'Logic "circuits" for beginners' })
  })
  const names = async (q: string) => {
    const r = await p.call('GET', `/api/products?q=${encodeURIComponent(q)}`)
    expect({ q, status: r.status }).toEqual({ q, status: 200 })
    return (r.body.items as Listed[]).map((x) => x.name).sort()
  }

  test('q matches words of name and description, every word, by prefix, case and accents aside', async () => {
    expect(await names('red')).toEqual(['Blue sandal', 'Red running shoe'])
    expect(await names('red road')).toEqual(['Red running shoe'])
    expect(await names('RUN')).toEqual(['Red running shoe'])
    expect(await names('cafe creme')).toEqual(['Café crème mug'])
    expect(await names('stoneware')).toEqual(['Café crème mug'])
    expect(await names('umbrella')).toEqual([])
  })

  test('FTS syntax in q is plain text: quotes, operators and stray punctuation never error', async () => {
    for (const q of [
      '"',
      '""',
      'AND',
      'OR',
      'NOT',
      'NEAR',
      '*',
      '(',
      ')',
      'red OR',
      'a:b',
      '^red',
      'red -blue',
      "'; DROP TABLE products; --",
      'NEAR(red blue)',
      '{name}: red',
    ]) {
      await names(q)
    }
    expect(await names('AND')).toEqual(['AND gate kit'])
    expect(await names('"circuits"')).toEqual(['AND gate kit'])
    expect(await names('red OR')).toEqual([])
    expect(await names('!!!')).toEqual([])
    expect((await p.call('GET', '/api/products')).body.items.length).toBe(4)
  })

  test('search follows renames and pages with the other filters', async () => {
    const mug = (await p.call('GET', '/api/products?q=mug')).body.items[0] as Listed
    await p.call('PATCH', `/api/products/${mug.id}`, { token: p.admin, body: { name: 'Tea cup' } })
    expect(await names('mug')).toEqual([])
    expect(await names('tea')).toEqual(['Tea cup'])
    const pages = await listAll('q=for&sort=price_asc', 1)
    expect(
      pages
        .flat()
        .map((x) => x.name)
        .sort(),
    ).toEqual(['AND gate kit', 'Blue sandal', 'Red running shoe'])
  })
})
