// Starts the product service the way it runs (real SQLite file, real bus) and talks to it over HTTP.
import {
  createEvent,
  type Delivery,
  decodeEvent,
  type Event,
  type EventData,
  MemoryBus,
  type RunningService,
  startService,
} from '@mart/shared'
import { collect, devTokenSigner, type HttpCall, httpClient, tempDir, testLogger } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export type Call = HttpCall

export type ProductEvent = Event<'product.created' | 'product.updated' | 'product.deleted'>

export async function startProduct(opts: { duplicateDelivery?: boolean } = {}) {
  const tmp = tempDir('mart-product-')
  const bus = new MemoryBus({ duplicateDelivery: opts.duplicateDelivery ?? false })
  const topics = ['product.events', 'inventory.events', 'inventory.events.dlq']
  await bus.ensureTopics(topics)
  const events = await collect(bus, `observer-${crypto.randomUUID()}`, ['product.events'])
  const deadLetters = await collect(bus, `dlq-observer-${crypto.randomUUID()}`, ['inventory.events.dlq'])
  const svc: RunningService = await startService(definition, {
    env: { NODE_ENV: 'test', DATA_DIR: tmp.dir },
    bus,
    log: testLogger('product'),
  })

  // Tokens signed with the development key the service verifies with (DATA_DIR/keys), as the
  // user service would sign them: no need to run it here.
  const sign = await devTokenSigner(tmp.dir)
  const token = (role: 'user' | 'admin', username: string = role) => sign(role, { username })
  const admin = await token('admin')

  const call = httpClient(svc.app, 'http://product.mart.test')

  /** Creates a product as the admin; answers the created product. */
  async function create(fields: Record<string, unknown> = {}) {
    const r = await call('POST', '/api/products', {
      token: admin,
      body: { name: 'Widget', description: 'A widget', price: { amount: 1999, currency: 'EUR' }, ...fields },
    })
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`)
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
    return r.body as Record<string, any>
  }

  /** Publishes a raw message on inventory.events, as the inventory service's relay would. */
  const publishRaw = (key: string, value: string) =>
    bus.publish([{ topic: 'inventory.events', key, value, headers: {} }])

  /** Publishes a stock.adjusted about `productId`; answers the event. */
  async function adjustStock(productId: string, data: Partial<EventData<'stock.adjusted'>> = {}) {
    const event = createEvent({
      type: 'stock.adjusted',
      source: 'inventory',
      subject: productId,
      data: {
        productId,
        onHand: 10,
        reserved: 0,
        available: 10,
        lowStockThreshold: 5,
        status: 'in_stock',
        reason: 'test',
        ...data,
      },
    })
    await publishRaw(productId, JSON.stringify(event))
    return event
  }

  return {
    svc,
    bus,
    dir: tmp.dir,
    admin,
    token,
    call,
    create,
    adjustStock,
    publishRaw,
    /** Events the service published on product.events, decoded. */
    events: () => events.got.map((d: Delivery) => decodeEvent(d.value) as ProductEvent),
    deliveries: (): Delivery[] => [...events.got],
    /** What landed on inventory.events.dlq. */
    deadLetters: (): Delivery[] => [...deadLetters.got],
    async stop() {
      await events.stop()
      await deadLetters.stop()
      await svc.stop()
      await bus.close()
      tmp.cleanup()
    },
  }
}

export type ProductHarness = Awaited<ReturnType<typeof startProduct>>
