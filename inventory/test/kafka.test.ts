import { afterEach, beforeEach, expect, test } from 'bun:test'
import { decodeEvent, type Event, type KafkaBus } from '@mart/shared'
import { describeKafka, kafkaTestBus, waitFor } from '@mart/shared/testing'
import { type InventoryHarness, placed, product, startInventory } from './support.ts'

type Answer = Event<'stock.reserved' | 'stock.rejected'>

describeKafka('no overselling, through real Kafka', (brokers) => {
  let bus: KafkaBus
  let h: InventoryHarness

  beforeEach(async () => {
    bus = kafkaTestBus(brokers, 'inventory-test')
    h = await startInventory({ bus })
    await waitFor(() => h.svc.ready(), 'the inventory service ready on Kafka', 30_000)
  }, 60_000)
  afterEach(async () => {
    await h.stop()
    await bus.close()
  }, 60_000)

  /** Inventory's answers to order.placed as they arrived on the topic, one per event id. */
  const answers = () => {
    const byId = new Map<string, Answer>()
    for (const d of h.deliveries()) {
      const e = decodeEvent(d.value)
      if (e.type === 'stock.reserved' || e.type === 'stock.rejected') byId.set(e.id, e as Answer)
    }
    return [...byId.values()]
  }
  const answered = (n: number) =>
    waitFor(() => (answers().length >= n ? answers() : null), `${n} answers`, 45_000)

  test('200 concurrent orders of 1 for a product with 50 in stock: exactly 50 reserved, 150 rejected', async () => {
    await h.settled(await h.send('product.created', product('hot', 50), 'hot'))
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        h.send('order.placed', placed(`order-${i}`, [['hot', 1]]), `order-${i}`),
      ),
    )
    const got = await answered(200)
    expect(got.filter((e) => e.type === 'stock.reserved')).toHaveLength(50)
    const rejected = got.filter((e) => e.type === 'stock.rejected') as Event<'stock.rejected'>[]
    expect(rejected).toHaveLength(150)
    for (const e of rejected) {
      expect(e.data.reasons).toEqual([
        { productId: 'hot', reason: 'insufficient_stock', requested: 1, available: 0 },
      ])
    }
    // Exactly one answer per order.
    expect(new Set(got.map((e) => e.data.orderId)).size).toBe(200)
    expect(h.item('hot')).toMatchObject({ onHand: 50, reserved: 50 })
    const held = h.svc.store.sqlite
      .prepare("SELECT sum(quantity) AS n FROM reservations WHERE product_id = 'hot'")
      .get()
    expect(held).toEqual({ n: 50 })
    await new Promise((r) => setTimeout(r, 500)) // a straggler would be a second answer to some order
    expect(answers()).toHaveLength(200)
  }, 60_000)

  test('150 concurrent multi-line orders sharing products: each is reserved whole or not at all', async () => {
    const stock: Record<string, number> = { p1: 20, p2: 15, p3: 10, p4: 5 }
    const created = await Promise.all(
      Object.entries(stock).map(([id, n]) => h.send('product.created', product(id, n), id)),
    )
    await h.settled(...created)
    const ids = Object.keys(stock)
    // Deterministic but varied: 1 to 3 lines, some naming one product twice, quantities 1 to 3.
    const orders = Array.from({ length: 150 }, (_, i) => {
      const lines: [string, number][] = []
      for (let l = 0; l <= i % 3; l++)
        lines.push([ids[(i + l * 3) % ids.length] as string, 1 + ((i * 7 + l) % 3)])
      if (i % 10 === 0) lines.push([ids[i % ids.length] as string, 1])
      return { orderId: `multi-${i}`, lines }
    })
    await Promise.all(orders.map((o) => h.send('order.placed', placed(o.orderId, o.lines), o.orderId)))
    const got = await answered(orders.length)
    const outcome = new Map(got.map((e) => [e.data.orderId, e.type]))
    expect(outcome.size).toBe(orders.length)

    const heldBy = new Map<string, number>()
    for (const o of orders) {
      const wanted = new Map<string, number>()
      for (const [p, q] of o.lines) wanted.set(p, (wanted.get(p) ?? 0) + q)
      const rows = h.reservationsOf(o.orderId)
      if (outcome.get(o.orderId) === 'stock.reserved') {
        expect(Object.fromEntries(rows.map((r) => [r.productId, r.quantity]))).toEqual(
          Object.fromEntries(wanted),
        )
        for (const [p, q] of wanted) heldBy.set(p, (heldBy.get(p) ?? 0) + q)
      } else {
        expect(rows).toEqual([])
      }
    }
    // Both outcomes happened (demand is far above supply), and the books add up per product.
    expect([...outcome.values()].filter((t) => t === 'stock.reserved').length).toBeGreaterThan(0)
    expect([...outcome.values()].filter((t) => t === 'stock.rejected').length).toBeGreaterThan(0)
    for (const [id, onHand] of Object.entries(stock)) {
      const item = h.item(id)
      expect(item).toMatchObject({ onHand, reserved: heldBy.get(id) ?? 0 })
      expect(item?.reserved).toBeLessThanOrEqual(onHand)
    }
  }, 60_000)
})
