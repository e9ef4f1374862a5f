// kill -9 of the order service between order.placed and inventory's stock.reserved: once it is back,
// the order still ends unpaid, and each of its events went out once. On real Kafka (the order
// service a process of its own beside the others) and in the embedded mode (one process, its bus
// journaled to a file).
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { KafkaBus } from '@mart/shared'
import {
  describeKafka,
  devTokenSigner,
  httpClient,
  tempDir,
  testLogger,
  uniquePrefix,
  waitFor,
} from '@mart/shared/testing'
import Database from 'better-sqlite3'
import { type Child, kill9, killAll, spawnFixture } from './processes.ts'
import { type Marketplace, marketplace } from './support.ts'

/** Rows of `sql` in a SQLite file another process writes. */
function read<R>(file: string, sql: string, ...params: unknown[]): R[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(sql).all(...params) as R[]
  } finally {
    db.close()
  }
}

/** How many of the order service's outbox rows are not on the bus yet. */
const unsent = (dir: string) =>
  read<{ n: number }>(join(dir, 'order.db'), 'SELECT count(*) AS n FROM mart_outbox WHERE sent_at IS NULL')[0]
    ?.n

/** What the order service committed to publish about the order, by event type. */
const outboxOf = (dir: string, orderId: string) =>
  read<{ type: string; n: number }>(
    join(dir, 'order.db'),
    `SELECT json_extract(value, '$.type') AS type, count(*) AS n FROM mart_outbox
     WHERE json_extract(value, '$.subject') = ? GROUP BY type ORDER BY type`,
    orderId,
  )

describeKafka('kill -9 of the order service over real Kafka', (brokers) => {
  let m: Marketplace
  let env: Record<string, string | undefined>
  beforeEach(async () => {
    const prefix = uniquePrefix()
    const bus = new KafkaBus({
      brokers,
      clientId: 'e2e-crash',
      topicPrefix: prefix,
      log: testLogger('kafka'),
    })
    // Order runs in a process of its own, on the same topics and the same data directory (where
    // the user service's signing keys are).
    m = await marketplace(bus, { services: ['user', 'product', 'inventory'] })
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEST_LOG_LEVEL: process.env.TEST_LOG_LEVEL,
      NODE_ENV: 'test',
      DATA_DIR: m.dir,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
    }
  }, 60_000)
  afterEach(async () => {
    await killAll()
    await m.stop()
  }, 60_000)

  const startOrder = async () => {
    const child = await spawnFixture('service.ts', ['order'], env)
    m.elsewhere('order', child.url)
    return child
  }

  test('order.placed on the topic, the order service killed before stock.reserved: it ends unpaid after the restart', async () => {
    let order: Child = await startOrder()
    const alice = await m.customer('alice')
    const lamp = await m.createLamp(5)
    await m.orderable(lamp)

    // Inventory is down: its answer cannot reach the order service before the crash.
    await m.halt('inventory')
    const placed = await m.placeOrder(alice, [[lamp, 2]])
    await waitFor(() => m.published('order.placed', placed.id)[0], 'order.placed on the topic', 30_000)
    await waitFor(() => unsent(m.dir) === 0, 'the relay to mark order.placed sent', 30_000)
    await kill9(order)

    // Inventory answers while the order service is dead.
    await m.resume('inventory')
    await waitFor(() => m.published('stock.reserved', placed.id)[0], 'stock.reserved on the topic', 30_000)
    expect(await m.stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 2 })

    order = await startOrder()
    const unpaid = await m.waitForStatus(placed.id, 'unpaid', alice.token)
    expect(unpaid).toMatchObject({ payment: 'none', expiresAt: placed.expiresAt })
    await waitFor(
      () => m.published('order.awaiting_payment', placed.id)[0],
      'order.awaiting_payment on the topic',
      30_000,
    )
    await waitFor(() => unsent(m.dir) === 0, 'the relay to be done', 30_000)
    expect(m.published('order.placed', placed.id)).toHaveLength(1)
    expect(m.published('order.awaiting_payment', placed.id)).toHaveLength(1)
    expect(outboxOf(m.dir, placed.id)).toEqual([
      { type: 'order.awaiting_payment', n: 1 },
      { type: 'order.placed', n: 1 },
    ])
    const timeline = await m.timelineOf(placed.id)
    expect(timeline.map((e) => [e.type, e.outcome, e.from, e.to])).toEqual([
      ['order.placed', 'moved', null, 'pending'],
      ['stock.reserved', 'moved', 'pending', 'unpaid'],
    ])
  }, 40_000)
})

test('embedded: kill -9 with order.placed journaled and inventory not running: after the restart the order ends unpaid', async () => {
  const tmp = tempDir('mart-embedded-order-')
  try {
    const sign = await devTokenSigner(tmp.dir)
    const admin = await sign('admin')
    const aliceId = crypto.randomUUID()
    const alice = await sign('user', { sub: aliceId })
    const start = async (services: string) => {
      const child = await spawnFixture('embedded.ts', [tmp.dir, services])
      return { child, call: httpClient({ handle: (r: Request) => fetch(r) }, child.url) }
    }

    // Run 1: catalogue and orders, no inventory. order.placed reaches the journal; nobody answers.
    const first = await start('product,order')
    const product = {
      name: 'Lamp',
      description: 'A lamp',
      price: { amount: 2500, currency: 'EUR' },
      initialStock: 7,
    }
    const created = await first.call('POST', '/api/products', { body: product, token: admin })
    expect(created.status).toBe(201)
    const lamp = created.body.id as string
    await waitFor(
      () =>
        read<{ n: number }>(
          join(tmp.dir, 'order.db'),
          'SELECT count(*) AS n FROM products WHERE id = ?',
          lamp,
        )[0]?.n === 1,
      'the order service to know the product',
    )
    const placed = await first.call('POST', '/api/orders', {
      body: { lines: [{ productId: lamp, quantity: 3 }] },
      token: alice,
    })
    expect(placed.status).toBe(202)
    const id = placed.body.id as string
    await waitFor(() => unsent(tmp.dir) === 0, 'the relay to hand order.placed to the bus')
    await kill9(first.child)

    // Run 2: the same data, with inventory.
    const second = await start('product,inventory,order')
    const unpaid = await waitFor(async () => {
      const r = await second.call('GET', `/api/orders/${id}`, { token: alice })
      expect(r.status).toBe(200)
      return r.body.status === 'unpaid' ? r.body : null
    }, 'the order to be unpaid')
    expect(unpaid).toMatchObject({ userId: aliceId, payment: 'none' })
    const stock = await second.call('GET', `/api/inventory/${lamp}`, { token: admin })
    expect(stock.body).toMatchObject({ onHand: 7, reserved: 3 })

    // Once each on the bus, as in the order service's outbox.
    await waitFor(() => unsent(tmp.dir) === 0, 'the relay to be done')
    const onBus = read<{ type: string; n: number }>(
      join(tmp.dir, 'bus.db'),
      `SELECT json_extract(value, '$.type') AS type, count(*) AS n FROM bus_messages
       WHERE topic = 'order.events' AND key = ? GROUP BY type ORDER BY type`,
      id,
    )
    const once = [
      { type: 'order.awaiting_payment', n: 1 },
      { type: 'order.placed', n: 1 },
    ]
    expect(onBus).toEqual(once)
    expect(outboxOf(tmp.dir, id)).toEqual(once)
  } finally {
    await killAll()
    tmp.cleanup()
  }
}, 30_000)
