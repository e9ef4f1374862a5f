import { afterAll, beforeAll, expect, test } from 'bun:test'
import { stockStatuses } from '@mart/shared'
import { type ProductHarness, startProduct } from './support.ts'

let p: ProductHarness
beforeAll(async () => {
  p = await startProduct()
})
afterAll(() => p.stop())

test('ready once the bus is set up; /docs/json documents every route', async () => {
  expect((await p.call('GET', '/health')).status).toBe(200)
  expect((await p.call('GET', '/ready')).status).toBe(200)
  const spec = (await p.call('GET', '/docs/json')).body
  expect(Object.keys(spec.paths).sort()).toEqual(['/api/products', '/api/products/{id}'])
  expect(Object.keys(spec.paths['/api/products']).sort()).toEqual(['get', 'post'])
  expect(Object.keys(spec.paths['/api/products/{id}']).sort()).toEqual(['delete', 'get', 'patch'])
})

test('the migrations built the full-text index and its triggers', () => {
  const names = p.svc.store.sqlite
    .prepare(
      "SELECT name FROM sqlite_master WHERE name LIKE 'products_fts%' AND type IN ('table', 'trigger')",
    )
    .all()
    .map((r) => (r as { name: string }).name)
  expect(names).toEqual(
    expect.arrayContaining([
      'products_fts',
      'products_fts_insert',
      'products_fts_update',
      'products_fts_delete',
    ]),
  )
})

test('the stock read model takes exactly the stock statuses events carry (a CHECK derived from the list)', () => {
  const insert = p.svc.store.sqlite.prepare(
    "INSERT INTO stock (product_id, status, available, event_id) VALUES (?, ?, 0, 'e')",
  )
  for (const status of stockStatuses) expect(() => insert.run(`p-${status}`, status)).not.toThrow()
  expect(() => insert.run('p-x', 'discontinued')).toThrow(/CHECK constraint failed: stock_status/)
})
