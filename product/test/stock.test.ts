// The stock read model: product shows what inventory's stock.adjusted events say. The harness's bus
// delivers every message twice, so every test here also proves the handler idempotent.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createEvent, dlqHeaders } from '@mart/shared'
import { waitFor } from '@mart/shared/testing'
import { type ProductHarness, startProduct } from './support.ts'

let p: ProductHarness
beforeEach(async () => {
  p = await startProduct()
})
afterEach(() => p.stop())

const stockOf = async (id: string) => (await p.call('GET', `/api/products/${id}`)).body.stock
const sql = <T>(query: string, ...args: unknown[]) => p.svc.store.sqlite.prepare(query).get(...args) as T

/** Waits until the read model has applied the event `eventId` (its last applied event). */
const applied = (eventId: string) =>
  waitFor(
    () => sql<{ n: number }>('SELECT count(*) AS n FROM stock WHERE event_id = ?', eventId).n === 1,
    `stock event ${eventId} applied`,
  )

describe('stock read model', () => {
  test('before inventory speaks, stock comes from initialStock', async () => {
    const some = await p.create({ initialStock: 12 })
    const none = await p.create()
    expect(await stockOf(some.id)).toEqual({ status: 'in_stock', available: 12 })
    expect(await stockOf(none.id)).toEqual({ status: 'out_of_stock', available: 0 })
  })

  test('stock.adjusted sets status and available, in GET, in the list and in the inStock filter', async () => {
    const a = await p.create({ name: 'Alpha', initialStock: 10 })
    const b = await p.create({ name: 'Beta', initialStock: 0 })
    await p.adjustStock(a.id, { onHand: 3, available: 3, status: 'low_stock' })
    await waitFor(async () => (await stockOf(a.id)).status === 'low_stock', 'alpha low on stock')
    expect(await stockOf(a.id)).toEqual({ status: 'low_stock', available: 3 })

    const inStock = async (v: boolean) =>
      (await p.call('GET', `/api/products?inStock=${v}`)).body.items.map((x: { name: string }) => x.name)
    expect(await inStock(true)).toEqual(['Alpha'])
    expect(await inStock(false)).toEqual(['Beta'])

    await p.adjustStock(b.id, { onHand: 5, available: 5, status: 'in_stock' })
    const e = await p.adjustStock(a.id, { onHand: 3, reserved: 3, available: 0, status: 'out_of_stock' })
    await applied(e.id)
    await waitFor(async () => (await stockOf(b.id)).available === 5, 'beta restocked')
    expect(await inStock(true)).toEqual(['Beta'])
    expect(await inStock(false)).toEqual(['Alpha'])
    const listed = (await p.call('GET', '/api/products')).body.items
    expect(listed.map((x: { stock: unknown }) => x.stock)).toEqual([
      { status: 'in_stock', available: 5 },
      { status: 'out_of_stock', available: 0 },
    ])
  })

  test('a redelivered event changes nothing: applied once, recorded once in the inbox', async () => {
    const a = await p.create({ initialStock: 10 })
    const first = await p.adjustStock(a.id, { available: 3, onHand: 3, status: 'low_stock' })
    await applied(first.id)
    const second = await p.adjustStock(a.id, { available: 8, onHand: 8, status: 'in_stock' })
    await applied(second.id)
    // The first event again, as a redrive from a dead-letter topic or a crash before commit would.
    await p.sendRaw('inventory.events', a.id, JSON.stringify(first))
    // A later event on the same key (so the same partition) marks that the repeat was handled.
    const marker = await p.adjustStock(a.id, {
      available: 8,
      onHand: 8,
      status: 'in_stock',
      reason: 'marker',
    })
    await applied(marker.id)
    expect(await stockOf(a.id)).toEqual({ status: 'in_stock', available: 8 })
    const inbox = sql<{ n: number }>('SELECT count(*) AS n FROM mart_inbox WHERE event_id = ?', first.id)
    expect(inbox.n).toBe(1)
  })

  test('an older event arriving after a newer one does not overwrite it', async () => {
    const a = await p.create({ initialStock: 10 })
    // Created in this order, so `older` has the smaller (time-ordered) id; delivered the other way round.
    const older = createEvent({
      type: 'stock.adjusted',
      source: 'inventory',
      subject: a.id,
      data: {
        productId: a.id,
        onHand: 1,
        reserved: 0,
        available: 1,
        lowStockThreshold: 2,
        status: 'low_stock',
        reason: 'old',
      },
    })
    const newer = await p.adjustStock(a.id, { available: 9, onHand: 9, status: 'in_stock' })
    await applied(newer.id)
    await p.sendRaw('inventory.events', a.id, JSON.stringify(older))
    await waitFor(
      () => sql<{ n: number }>('SELECT count(*) AS n FROM mart_inbox WHERE event_id = ?', older.id).n === 1,
      'the older event handled',
    )
    expect(await stockOf(a.id)).toEqual({ status: 'in_stock', available: 9 })
  })

  test('stock.adjusted for a product this service does not list is kept and harms nothing', async () => {
    const id = '01900000-0000-7000-8000-00000000abcd'
    const e = await p.adjustStock(id)
    await applied(e.id)
    expect((await p.call('GET', `/api/products/${id}`)).status).toBe(404)
    expect((await p.call('GET', '/api/products')).body.items).toEqual([])
  })

  test('an invalid stock.adjusted is dead-lettered, not applied, and the partition moves on', async () => {
    const a = await p.create({ initialStock: 10 })
    const bad = JSON.parse(
      JSON.stringify(
        await createEvent({
          type: 'stock.adjusted',
          source: 'inventory',
          subject: a.id,
          data: {
            productId: a.id,
            onHand: 0,
            reserved: 0,
            available: 0,
            lowStockThreshold: 0,
            status: 'out_of_stock',
            reason: 'x',
          },
        }),
      ),
    )
    bad.data.available = -4
    await p.sendRaw('inventory.events', a.id, JSON.stringify(bad))
    await p.sendRaw('inventory.events', a.id, 'not json at all')
    const good = await p.adjustStock(a.id, { available: 6, onHand: 6 })
    await applied(good.id)

    const dead = await waitFor(
      () => (p.deadLetters().length >= 2 ? p.deadLetters() : null),
      'two dead letters',
    )
    // Delivered twice, a bad message is dead-lettered twice: at-least-once all the way. One per
    // original offset is what counts.
    const byOffset = new Map(
      dead
        .filter((d) => d.headers[dlqHeaders.group] === 'product')
        .map((d) => [d.headers[dlqHeaders.offset], d]),
    )
    const ours = [...byOffset.values()]
    expect(ours.map((d) => d.value)).toEqual([JSON.stringify(bad), 'not json at all'])
    for (const d of ours) {
      expect(d.headers[dlqHeaders.reason]).toBe('invalid')
      expect(d.headers[dlqHeaders.topic]).toBe('inventory.events')
      expect(d.key).toBe(a.id)
    }
    expect(ours[0]?.headers[dlqHeaders.error]).toContain('/data/available')
    expect(await stockOf(a.id)).toEqual({ status: 'in_stock', available: 6 })
  })

  test('the product follows inventory over the bus', async () => {
    const a = await p.create({ initialStock: 4 })
    await p.adjustStock(a.id, { available: 2, onHand: 2, status: 'low_stock' })
    // How fast is bench:bus's to measure; a test only says that it arrives.
    await waitFor(async () => (await stockOf(a.id)).available === 2, 'stock followed')
    expect(await stockOf(a.id)).toEqual({ status: 'low_stock', available: 2 })
  })
})
