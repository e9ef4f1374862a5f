// Anonymous catalogue pages come from a cache of finished answers. What it must never do: show a
// page staler than the change that was handled last (a write of the catalogue, or a stock event
// once the service has handled it: one bus round trip), keep a page for a caller with a token, or
// keep an ETag when the content changed.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { PageCache } from '../src/page-cache.ts'
import { type ProductHarness, startProduct } from './support.ts'

let p: ProductHarness
beforeEach(async () => {
  p = await startProduct()
})
afterEach(() => p.stop())

const page = (query = '', headers: Record<string, string> = {}) =>
  p.call('GET', `/api/products${query}`, { headers })
const names = (r: { body: Record<string, unknown> }) =>
  (r.body.items as { name: string }[]).map((x) => x.name)

describe('anonymous catalogue pages', () => {
  test('carry a strong ETag and may be kept if revalidated; a client holding the ETag gets a 304', async () => {
    await p.create({ name: 'Alpha' })
    const first = await page()
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag') as string
    expect(etag).toMatch(/^"[0-9a-z]+"$/)
    expect(first.headers.get('cache-control')).toBe('public, no-cache')
    expect(first.headers.get('vary')).toContain('Authorization')
    expect(first.headers.get('content-type')).toBe('application/json;charset=utf-8')
    expect(first.headers.get('x-request-id')).toBeTruthy()

    const again = await page()
    expect(again.headers.get('etag')).toBe(etag)
    expect(again.text).toBe(first.text)

    for (const held of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const revalidated = await page('', { 'if-none-match': held })
      expect(revalidated.status).toBe(304)
      expect(revalidated.text).toBe('')
      expect(revalidated.headers.get('etag')).toBe(etag)
      expect(revalidated.headers.get('cache-control')).toBe('public, no-cache')
    }
    expect((await page('', { 'if-none-match': '"other"' })).status).toBe(200)
  })

  test('are what the uncached read answers, byte for byte, and each query has its own', async () => {
    for (const [name, amount] of [
      ['Alpha', 300],
      ['Beta', 100],
      ['Gamma', 200],
    ] as const) {
      await p.create({ name, price: { amount, currency: 'EUR' } })
    }
    for (const query of [
      '',
      '?limit=1',
      '?limit=2',
      '?sort=price_asc',
      '?sort=price_asc&limit=2',
      '?q=gam',
    ]) {
      const anonymous = await page(query)
      const withToken = await p.call('GET', `/api/products${query}`, { token: p.admin })
      expect(anonymous.status).toBe(200)
      expect(anonymous.text).toBe(withToken.text)
    }
    expect(names(await page('?sort=price_asc'))).toEqual(['Beta', 'Gamma', 'Alpha'])
    expect(names(await page('?limit=1'))).toEqual(['Gamma'])
    const second = await page(`?limit=1&cursor=${(await page('?limit=1')).body.nextCursor}`)
    expect(names(second)).toEqual(['Beta'])
    // A bad request is still checked, cached page or not.
    expect((await page('?limit=1&cursor=nonsense')).status).toBe(422)
    expect((await page('?limit=0')).status).toBe(422)
  })

  test('a read with a token is answered without the cache: no ETag, nothing to keep', async () => {
    await p.create({ name: 'Alpha' })
    await page() // an anonymous read has filled the cache for this query
    const r = await p.call('GET', '/api/products', { token: p.admin })
    expect(r.status).toBe(200)
    expect(names(r)).toEqual(['Alpha'])
    expect(r.headers.get('etag')).toBeNull()
    expect(r.headers.get('cache-control')).toBeNull()
  })

  test('the next read after a catalogue write shows it, with a new ETag', async () => {
    const a = await p.create({ name: 'Alpha', initialStock: 5 })
    const before = await page()
    expect(names(before)).toEqual(['Alpha'])

    await p.call('PATCH', `/api/products/${a.id}`, { token: p.admin, body: { name: 'Alpha Two' } })
    const renamed = await page()
    expect(names(renamed)).toEqual(['Alpha Two'])
    expect(renamed.headers.get('etag')).not.toBe(before.headers.get('etag'))
    // The ETag the client held no longer matches: it gets the new page.
    expect((await page('', { 'if-none-match': before.headers.get('etag') as string })).status).toBe(200)

    await p.create({ name: 'Beta' })
    expect(names(await page())).toEqual(['Beta', 'Alpha Two'])
    await p.call('DELETE', `/api/products/${a.id}`, { token: p.admin })
    expect(names(await page())).toEqual(['Beta'])
  })

  test('the next read after a stock event is handled shows the new stock: stale by one bus round trip at most', async () => {
    const a = await p.create({ name: 'Alpha', initialStock: 10 })
    const b = await p.create({ name: 'Beta', initialStock: 0 })
    const stock = async (query = '') =>
      ((await page(query)).body.items as { name: string; stock: unknown }[]).map((x) => [x.name, x.stock])
    expect(await stock()).toEqual([
      ['Beta', { status: 'out_of_stock', available: 0 }],
      ['Alpha', { status: 'in_stock', available: 10 }],
    ])
    expect(names(await page('?inStock=true'))).toEqual(['Alpha'])
    const etag = (await page()).headers.get('etag')

    // No waiting for the page to change: once the event is handled, the very next read shows it.
    const low = await p.adjustStock(a.id, { onHand: 2, available: 2, status: 'low_stock' })
    await p.settled(low)
    expect(await stock()).toEqual([
      ['Beta', { status: 'out_of_stock', available: 0 }],
      ['Alpha', { status: 'low_stock', available: 2 }],
    ])
    expect((await page()).headers.get('etag')).not.toBe(etag)

    const restocked = await p.adjustStock(b.id, { onHand: 4, available: 4, status: 'in_stock' })
    const soldOut = await p.adjustStock(a.id, {
      onHand: 2,
      reserved: 2,
      available: 0,
      status: 'out_of_stock',
    })
    await p.settled(restocked, soldOut)
    expect(names(await page('?inStock=true'))).toEqual(['Beta'])
    expect(names(await page('?inStock=false'))).toEqual(['Alpha'])
  })
})

describe('PageCache', () => {
  test('a page read while a change commits is answered but not kept', async () => {
    const pages = new PageCache()
    let reads = 0
    const read = () => {
      reads++
      if (reads === 1) pages.forget() // a change committed while this page was being read
      return { reads }
    }
    expect(await pages.get('k', read).body.json()).toEqual({ reads: 1 })
    expect(pages.size).toBe(0)
    expect(await pages.get('k', read).body.json()).toEqual({ reads: 2 })
    expect(await pages.get('k', read).body.json()).toEqual({ reads: 2 })
  })

  test('keeps at most its bound, the oldest going first; forgets everything only on commit', () => {
    const pages = new PageCache(2)
    for (const key of ['a', 'b', 'c']) pages.get(key, () => key)
    expect(pages.size).toBe(2)
    let read = 0
    pages.get('a', () => ++read)
    expect(read).toBe(1) // 'a' went first
    const hooks: (() => void)[] = []
    pages.forgetOnCommit({ afterCommit: (fn) => hooks.push(fn) })
    expect(pages.size).toBe(2) // not before the commit
    for (const fn of hooks) fn()
    expect(pages.size).toBe(0)
  })

  test('the ETag follows the content: same body, same ETag; another body, another', () => {
    const pages = new PageCache()
    const one = pages.get('k', () => ({ n: 1 })).etag
    pages.forget()
    expect(pages.get('k', () => ({ n: 1 })).etag).toBe(one)
    pages.forget()
    expect(pages.get('k', () => ({ n: 2 })).etag).not.toBe(one)
  })
})
