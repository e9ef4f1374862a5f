// Starts the inventory service the way it runs (real SQLite file, real bus), feeds it events as the
// product, order and payment services would, and talks to it over HTTP with signed tokens.
import {
  type Bus,
  catalog,
  createEvent,
  decodeEvent,
  type Event,
  type EventData,
  type EventType,
  encodeEvent,
  MemoryBus,
  type RunningService,
  startService,
  topics,
} from '@mart/shared'
import { devTokenSigner, httpClient, overrideBus, tempDir, testLogger, waitFor } from '@mart/shared/testing'
import type * as schema from '../src/db/schema.ts'
import { definition } from '../src/index.ts'

/** What the service emitted, in commit order: its outbox, read straight from its database. */
type Emitted = Event<EventTypesOfInventory>
type EventTypesOfInventory =
  | 'stock.reserved'
  | 'stock.rejected'
  | 'stock.released'
  | 'stock.committed'
  | 'stock.adjusted'
  | 'stock.low'

export async function startInventory(opts: { bus?: Bus; env?: Record<string, string> } = {}) {
  const tmp = tempDir('mart-inventory-')
  // Every message twice in a row to every group: each test also proves the handlers idempotent.
  const bus = opts.bus ?? new MemoryBus({ duplicateDelivery: true })
  if (!opts.bus) await bus.ensureTopics([...topics])
  const copies = opts.bus ? 1 : 2

  // Counts the deliveries the service's group has finished, so a test can wait until an event it
  // sent has been handled (every copy of it) before looking at the database.
  const handled = new Map<string, number>()
  const tracked = overrideBus(bus, {
    subscribe: (o) =>
      bus.subscribe(
        o.group !== 'inventory'
          ? o
          : {
              ...o,
              handle: async (d) => {
                await o.handle(d)
                const id = (JSON.parse(d.value) as { id: string }).id
                handled.set(id, (handled.get(id) ?? 0) + 1)
              },
            },
      ),
  })

  const svc = (await startService(definition, {
    env: { NODE_ENV: 'test', DATA_DIR: tmp.dir, ...opts.env },
    bus: tracked,
    log: testLogger('inventory'),
  })) as RunningService<typeof schema>

  /** Publishes an event the way its producer's relay would (keyed by its subject); answers it. */
  async function send<T extends EventType>(type: T, data: EventData<T>, subject: string): Promise<Event<T>> {
    const event = createEvent({ type, data, subject, source: type.split('.')[0] as string })
    await bus.publish([
      {
        topic: catalog[type].topic,
        key: subject,
        value: encodeEvent(event),
        headers: { 'content-type': 'application/json', 'event-type': type },
      },
    ])
    return event
  }

  /** Waits until every copy of each event has been handled by the service. */
  const settled = (...events: Event[]) =>
    waitFor(
      () => events.every((e) => (handled.get(e.id) ?? 0) >= copies),
      `inventory to handle ${events.map((e) => e.type).join(', ')}`,
      30_000,
    )

  /** Sends events one after the other, each handled before the next goes. */
  async function apply(...steps: [EventType, unknown, string][]) {
    const sent: Event[] = []
    for (const [type, data, subject] of steps) {
      const e = await send(type, data as never, subject)
      await settled(e)
      sent.push(e)
    }
    return sent
  }

  const emitted = (): Emitted[] =>
    (svc.store.sqlite.prepare('SELECT value FROM mart_outbox ORDER BY seq').all() as { value: string }[]).map(
      (r) => decodeEvent(r.value) as Emitted,
    )

  const item = (productId: string) =>
    svc.store.sqlite
      .prepare(
        'SELECT on_hand AS onHand, reserved, low_stock_threshold AS threshold, discontinued FROM stock_items WHERE product_id = ?',
      )
      .get(productId) as
      | { onHand: number; reserved: number; threshold: number; discontinued: number }
      | undefined

  const reservationsOf = (orderId: string) =>
    svc.store.sqlite
      .prepare(
        'SELECT product_id AS productId, quantity FROM reservations WHERE order_id = ? ORDER BY product_id',
      )
      .all(orderId) as { productId: string; quantity: number }[]

  // Tokens as the user service signs them, with the development key the service verifies against.
  const sign = await devTokenSigner(tmp.dir)
  const token = (role: 'admin' | 'user', claims: { iss?: string; aud?: string } = {}) => sign(role, claims)

  const call = httpClient(svc.app, 'http://inventory.mart.test')

  return {
    svc,
    bus,
    dir: tmp.dir,
    send,
    settled,
    apply,
    emitted,
    item,
    reservationsOf,
    token,
    call,
    async stop() {
      await svc.stop()
      if (!opts.bus) await bus.close()
      tmp.cleanup()
    },
  }
}

export type InventoryHarness = Awaited<ReturnType<typeof startInventory>>

/** A product.created payload with `initialStock`. */
export const product = (id: string, initialStock: number): EventData<'product.created'> => ({
  id,
  name: `Product ${id}`,
  description: '',
  price: { amount: 1000, currency: 'EUR' },
  sku: null,
  imageUrl: null,
  active: true,
  initialStock,
})

/** An order.placed payload for `lines` ([productId, quantity] pairs). */
export const placed = (orderId: string, lines: [string, number][]): EventData<'order.placed'> => ({
  orderId,
  userId: 'user-1',
  lines: lines.map(([productId, quantity]) => ({
    productId,
    quantity,
    unitPrice: { amount: 1000, currency: 'EUR' },
  })),
  total: { amount: 1000 * lines.reduce((n, [, q]) => n + q, 0), currency: 'EUR' },
})

export const ref = (orderId: string) => ({ orderId, userId: 'user-1' })
export const paid = (orderId: string): EventData<'payment.succeeded'> => ({
  paymentId: `pay-${orderId}`,
  orderId,
  userId: 'user-1',
  method: 'stripe',
  amount: { amount: 1000, currency: 'EUR' },
})
