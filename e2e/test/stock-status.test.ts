// Several real services on one bus, talking only through events: what a shopper and an admin see.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Bus, MemoryBus } from '@mart/shared'
import { describeKafka, kafkaTestBus, waitFor } from '@mart/shared/testing'
import { type Marketplace, marketplace } from './support.ts'

/** A product's stock as shoppers see it in the catalogue. */
async function shown(m: Marketplace, id: string) {
  return (await m.call('product', 'GET', `/api/products/${id}`)).body.stock as {
    status: string
    available: number
  }
}

function suite(makeBus: () => Bus) {
  let m: Marketplace
  beforeEach(async () => {
    m = await marketplace(makeBus())
  }, 60_000)
  afterEach(() => m.stop(), 60_000)

  test('a new product gets a stock item in inventory, and the catalogue shows what inventory says', async () => {
    const id = await m.createLamp(12)

    const item = await waitFor(
      async () => {
        const r = await m.call('inventory', 'GET', `/api/inventory/${id}`, undefined, m.root)
        return r.status === 200 ? r.body : null
      },
      'the stock item',
      30_000,
    )
    expect(item).toMatchObject({ onHand: 12, reserved: 0, available: 12 })

    // An admin writes stock off in inventory: the catalogue follows, one bus round trip later.
    const low = await m.call(
      'inventory',
      'POST',
      `/api/inventory/${id}/adjustments`,
      { delta: -9, reason: 'damaged' },
      m.root,
    )
    expect(low.status).toBe(200)
    await waitFor(async () => (await shown(m, id)).available === 3, 'the catalogue to show 3 left', 30_000)
    expect(await shown(m, id)).toEqual({ status: 'low_stock', available: 3 })

    await m.call(
      'inventory',
      'POST',
      `/api/inventory/${id}/adjustments`,
      { delta: -3, reason: 'sold elsewhere' },
      m.root,
    )
    await waitFor(async () => (await shown(m, id)).status === 'out_of_stock', 'out of stock', 30_000)
    const inStock = await m.call('product', 'GET', '/api/products?inStock=true')
    expect(inStock.body.items.map((p: { id: string }) => p.id)).not.toContain(id)

    // Deleting the product discontinues its stock item.
    expect((await m.call('product', 'DELETE', `/api/products/${id}`, undefined, m.root)).status).toBe(204)
    await waitFor(
      async () => {
        const r = await m.call('inventory', 'GET', `/api/inventory/${id}`, undefined, m.root)
        return r.body.status === 'discontinued'
      },
      'the stock item discontinued',
      30_000,
    )
  })
}

suite(() => new MemoryBus({ duplicateDelivery: true }))

describeKafka('the same over real Kafka', (brokers) => {
  suite(() => kafkaTestBus(brokers, 'e2e'))
})
