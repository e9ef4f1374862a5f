// Integers in a query string or a path: decimal digits only, their bounds in /docs/json, and a
// 422 that names the parameter; a failed union of literals says what is allowed.
import { describe, expect, test } from 'bun:test'
import { t } from 'elysia'
import { createHttpApp, QueryInteger } from '../src/index.ts'
import { testLogger } from '../src/testing.ts'

const sorts = ['newest', 'price_asc', 'price_desc'] as const

function setup() {
  const app = createHttpApp({ service: 'demo', log: testLogger(), bodyLimit: 1024, ready: () => true })
    .get('/api/items', ({ query }) => ({ limit: query.limit ?? 20, offset: query.offset ?? 0 }), {
      query: t.Object({
        limit: t.Optional(QueryInteger({ minimum: 1, maximum: 100, description: 'page size' })),
        offset: t.Optional(QueryInteger({ minimum: -10, maximum: 10 })),
        sort: t.Optional(t.Union(sorts.map((s) => t.Literal(s)))),
      }),
    })
    .get('/api/pages/:n', ({ params }) => ({ n: params.n }), {
      params: t.Object({ n: QueryInteger({ minimum: 0, maximum: 5 }) }),
    })
  return async (path: string) => {
    const res = await app.handle(new Request(`http://mart.test${path}`))
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
}

describe('integers in the query and the path', () => {
  test('decimal digits are numbers to the handler', async () => {
    const get = setup()
    expect(await get('/api/items?limit=50&offset=-3')).toEqual({
      status: 200,
      body: { limit: 50, offset: -3 },
    })
    expect(await get('/api/items?limit=007')).toEqual({ status: 200, body: { limit: 7, offset: 0 } })
    expect(await get('/api/pages/5')).toEqual({ status: 200, body: { n: 5 } })
  })

  test('hex, exponents, spaces, signs and fractions are a 422 naming the parameter', async () => {
    const get = setup()
    for (const value of ['0x10', '1e1', '%20%205', '5%20', '+5', '5.0', '', 'ten', '1_0']) {
      const r = await get(`/api/items?limit=${value}`)
      expect({ value, status: r.status }).toEqual({ value, status: 422 })
      expect(r.body.errors).toEqual([
        { path: '/query/limit', message: 'must be an integer in decimal digits' },
      ])
    }
    const page = await get('/api/pages/0x3')
    expect(page.status).toBe(422)
    expect(page.body.errors).toEqual([{ path: '/params/n', message: 'must be an integer in decimal digits' }])
  })

  test('a minus only where the bounds allow negatives', async () => {
    const get = setup()
    for (const path of ['/api/items?limit=-5', '/api/items?limit=-0', '/api/pages/-1']) {
      const r = await get(path)
      expect({ path, status: r.status }).toEqual({ path, status: 422 })
    }
    expect((await get('/api/items?offset=-10')).status).toBe(200)
  })

  test('out of bounds: a 422 that says the bound and names the parameter', async () => {
    const get = setup()
    const r = await get('/api/items?limit=1000')
    expect(r.body.errors).toEqual([{ path: '/query/limit', message: 'must be at most 100' }])
    expect((await get('/api/items?limit=0')).body.errors).toEqual([
      { path: '/query/limit', message: 'must be at least 1' },
    ])
    expect((await get('/api/pages/9')).body.errors).toEqual([
      { path: '/params/n', message: 'must be at most 5' },
    ])
    // Past what a double holds exactly: out of bounds, not rounded into them.
    expect((await get('/api/items?offset=9007199254740993')).body.errors).toEqual([
      { path: '/query/offset', message: 'must be at most 10' },
    ])
  })

  test('/docs/json documents them as integers with their bounds', async () => {
    const app = createHttpApp({ service: 'demo', log: testLogger(), bodyLimit: 1024, ready: () => true }).get(
      '/api/items',
      ({ query }) => query,
      {
        query: t.Object({
          limit: t.Optional(QueryInteger({ minimum: 1, maximum: 100, description: 'page size' })),
        }),
      },
    )
    const spec = (await (await app.handle(new Request('http://mart.test/docs/json'))).json()) as {
      paths: Record<string, { get: { parameters: { name: string; schema: unknown }[] } }>
    }
    const limit = spec.paths['/api/items']?.get.parameters.find((p) => p.name === 'limit')
    expect(limit?.schema).toEqual({ type: 'integer', minimum: 1, maximum: 100, description: 'page size' })
  })
})

describe('a union of literals', () => {
  test('a value outside it is a 422 that lists what is allowed', async () => {
    const r = await setup()('/api/items?sort=cheapest')
    expect(r.status).toBe(422)
    expect(r.body.errors).toEqual([
      { path: '/query/sort', message: 'must be one of: newest, price_asc, price_desc' },
    ])
  })
})
