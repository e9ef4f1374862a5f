// User, product, inventory, order, payment and notification as real services on one bus, each with its own SQLite file,
// called in process the way a client calls them over HTTP (or over real HTTP, for a service a test
// runs in a process of its own).
import { join } from 'node:path'
import {
  type Bus,
  catalog,
  createEvent,
  type Delivery,
  decodeEvent,
  dlqTopic,
  type Event,
  type EventData,
  type EventType,
  encodeEvent,
  eventHeaders,
  type Logger,
  type RunningService,
  type ServiceDefinition,
  startService,
  topics,
} from '@mart/shared'
import { httpClient, tempDir, testLogger, waitFor } from '@mart/shared/testing'
import Database from 'better-sqlite3'
import { definition as inventory } from '../../inventory/src/index.ts'
import { definition as notification } from '../../notification/src/index.ts'
import { definition as order } from '../../order/src/index.ts'
import { definition as payment } from '../../payment/src/index.ts'
import type { PaymentView } from '../../payment/src/view.ts'
import { definition as product } from '../../product/src/index.ts'
import { definition as user } from '../../user/src/index.ts'
import { ADMIN, userTestEnv } from '../../user/test/support.ts'

export const ROOT = ADMIN

// biome-ignore lint/suspicious/noExplicitAny: each service has its own schema and config types
type AnyService = ServiceDefinition<any, any>
const definitions: Record<
  'user' | 'product' | 'inventory' | 'order' | 'payment' | 'notification',
  AnyService
> = {
  user,
  product,
  inventory,
  order,
  payment,
  notification,
}
export type Name = keyof typeof definitions

/** The order statuses an order never leaves. */
const ENDS = ['delivered', 'rejected', 'cancelled', 'expired']

export interface MarketplaceOptions {
  /** Over the test environment, for every service (ORDER_RESERVATION_TTL_SECONDS, say). */
  env?: Record<string, string>
  /** The services this process runs (all of them by default); see `elsewhere` for the others. */
  services?: Name[]
  /** Each service's logger (silent by default): a captured one, for a test that reads the log. */
  log?: (name: Name) => Logger
}

/** A signed-in person: their user id and access token. */
export interface Person {
  id: string
  token: string
}

export async function marketplace(bus: Bus, opts: MarketplaceOptions = {}) {
  const tmp = tempDir('mart-e2e-')
  await bus.ensureTopics(topics.flatMap((t) => [t, dlqTopic(t)]))
  const env = { NODE_ENV: 'test', DATA_DIR: tmp.dir, ...userTestEnv, ...opts.env }

  // Every message on every topic, once each: with duplicate delivery the observer is handed each
  // twice, but a topic holds it once.
  const seen = new Set<string>()
  const messages: Delivery[] = []
  const observer = await bus.subscribe({
    group: `e2e-observer-${crypto.randomUUID()}`,
    topics: [...topics],
    handle: async (d) => {
      const at = `${d.topic}/${d.partition}/${d.offset}`
      if (seen.has(at)) return
      seen.add(at)
      messages.push(d)
    },
  })

  const start = (name: Name, extra: Record<string, string> = {}) =>
    startService(definitions[name], {
      env: { ...env, ...extra },
      bus,
      log: opts.log?.(name) ?? testLogger(name),
    })
  const services: Partial<Record<Name, RunningService>> = {}
  const clients: Partial<Record<Name, ReturnType<typeof httpClient>>> = {}
  const run = async (name: Name, extra?: Record<string, string>) => {
    const svc = await start(name, extra)
    services[name] = svc
    clients[name] = httpClient(svc.app)
  }
  const running = (name: Name) => {
    const svc = services[name]
    if (!svc) throw new Error(`${name} does not run in this process now`)
    return svc
  }
  for (const name of opts.services ?? (Object.keys(definitions) as Name[])) await run(name)

  const call = (
    service: Name,
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    /** Headers, or a body sent as these exact bytes (a signed webhook). */
    extra: { headers?: Record<string, string>; rawJson?: string } = {},
  ) => {
    const client = clients[service]
    if (!client) throw new Error(`${service} is not running`)
    return client(method, path, { body, token, ...extra })
  }
  const login = async (username: string, password: string) => {
    const r = await call('user', 'POST', '/api/auth/login', { username, password })
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`)
    return r.body.accessToken as string
  }

  /** The seeded admin's access token. */
  const root = await login(ROOT.username, ROOT.password)

  /** A product in the catalogue, created by root, with `initialStock`: answers its id. */
  const createLamp = async (
    initialStock: number,
    price = { amount: 2999, currency: 'EUR' },
    name = 'Lamp',
  ) => {
    const body = { name, description: 'A desk lamp', price, initialStock }
    const created = await call('product', 'POST', '/api/products', body, root)
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
    return created.body.id as string
  }

  /** A customer: registered and logged in through the user service. */
  const customer = async (username: string): Promise<Person> => {
    const password = 'password-123'
    const reg = await call('user', 'POST', '/api/auth/register', {
      username,
      email: `${username}@mart.test`,
      password,
    })
    if (reg.status !== 201) throw new Error(`register ${username}: ${reg.status} ${reg.text}`)
    return { id: reg.body.id as string, token: await login(username, password) }
  }

  /** Reads a service's database, wherever the service runs (its file is in this marketplace's dir). */
  const query = <R>(service: Name, sql: string, ...params: unknown[]): R[] => {
    const db = new Database(join(tmp.dir, `${service}.db`), { readonly: true })
    try {
      return db.prepare(sql).all(...params) as R[]
    } finally {
      db.close()
    }
  }

  /** Inventory's stock item of a product, over its API (undefined until it has one). */
  const stockOf = async (productId: string) => {
    const r = await call('inventory', 'GET', `/api/inventory/${productId}`, undefined, root)
    return r.status === 200
      ? (r.body as { onHand: number; reserved: number; available: number; reservations: unknown[] })
      : undefined
  }

  /** Where an order's hold stands in inventory (reserved, committed, released...): its API does not say. */
  const holdOf = (orderId: string) =>
    query<{ state: string }>('inventory', 'SELECT state FROM order_holds WHERE order_id = ?', orderId)[0]
      ?.state

  /** Each event that reached `type`'s topic, once, in arrival order; only `orderId`'s when given. */
  function published<T extends EventType>(type: T, orderId?: string): Event<T>[] {
    return delivered(type, orderId).map((m) => m.event)
  }

  /** As `published`, each with the headers it travelled with (its traceparent, say). */
  function delivered<T extends EventType>(type: T, orderId?: string) {
    return messages
      .filter((d) => d.topic === catalog[type].topic && d.headers['event-type'] === type)
      .map((d) => ({ event: decodeEvent(d.value) as Event<T>, headers: d.headers }))
      .filter(
        ({ event }) => orderId === undefined || (event.data as { orderId?: string }).orderId === orderId,
      )
  }

  /** Publishes an event the way its producer's relay would (on its topic, keyed by its subject). */
  async function publish<T extends EventType>(type: T, data: EventData<T>, subject: string) {
    const source = catalog[type].topic.replace(/\.events$/, '')
    const event = createEvent({ type, data, subject, source })
    await bus.publish([
      { topic: catalog[type].topic, key: subject, value: encodeEvent(event), headers: eventHeaders(type) },
    ])
    return event
  }

  /** POST /api/orders as `who`, lines as [productId, quantity]: the pending order (202, or it throws). */
  const placeOrder = async (who: Person, lines: [string, number][]) => {
    const body = { lines: lines.map(([productId, quantity]) => ({ productId, quantity })) }
    const r = await call('order', 'POST', '/api/orders', body, who.token)
    if (r.status !== 202) throw new Error(`place: ${r.status} ${r.text}`)
    return r.body as OrderView
  }

  /** GET /api/orders/:id as `token` (root by default). */
  const orderOf = async (id: string, token = root) => {
    const r = await call('order', 'GET', `/api/orders/${id}`, undefined, token)
    if (r.status !== 200) throw new Error(`order ${id}: ${r.status} ${r.text}`)
    return r.body as OrderView
  }

  /**
   * Polls GET /api/orders/:id until the order is `status`: answers it. Fails at once when the order
   * ends in another state, since it never leaves one.
   */
  const waitForStatus = (id: string, status: string, token = root) =>
    waitFor(
      async () => {
        const o = await orderOf(id, token)
        if (o.status !== status && ENDS.includes(o.status)) {
          throw new Error(`order ${id} ended ${o.status}, not ${status}: ${JSON.stringify(o.outcome)}`)
        }
        return o.status === status ? o : null
      },
      `order ${id} to be ${status}`,
      30_000,
    )

  /** GET /api/orders/:id/timeline as root. */
  const timelineOf = async (id: string) => {
    const r = await call('order', 'GET', `/api/orders/${id}/timeline`, undefined, root)
    if (r.status !== 200) throw new Error(`timeline ${id}: ${r.status} ${r.text}`)
    return r.body.items as TimelineEntry[]
  }

  /** Waits until inventory has the product's stock item and the order service can price it. */
  const orderable = async (productId: string) => {
    await waitFor(() => stockOf(productId), 'the stock item', 30_000)
    await waitFor(
      () =>
        query<{ orderable: number }>('order', 'SELECT orderable FROM products WHERE id = ?', productId)[0]
          ?.orderable === 1,
      'the order service to know the product',
      30_000,
    )
  }

  /** Waits until the payment service knows the order as payable (it heard order.awaiting_payment). */
  const payable = (orderId: string) =>
    waitFor(
      () =>
        query<{ state: string }>('payment', 'SELECT state FROM orders WHERE id = ?', orderId)[0]?.state ===
        'unpaid',
      `the payment service to know order ${orderId} unpaid`,
      30_000,
    )

  /** POST /api/payments as `who`: the payment (201, or it throws). */
  const payOrder = async (who: Person, orderId: string, method: 'stripe' | 'cod') => {
    const r = await call('payment', 'POST', '/api/payments', { orderId, method }, who.token)
    if (r.status !== 201) throw new Error(`pay ${method}: ${r.status} ${r.text}`)
    return r.body as PaymentView
  }

  /** GET /api/payments/:id as `token` (root by default). */
  const paymentOf = async (id: string, token = root) => {
    const r = await call('payment', 'GET', `/api/payments/${id}`, undefined, token)
    if (r.status !== 200) throw new Error(`payment ${id}: ${r.status} ${r.text}`)
    return r.body as PaymentView
  }

  /** Posts a signed Stripe event to the payment service's webhook, as Stripe does. */
  const stripeWebhook = (e: { payload: string; signature: string }) =>
    call('payment', 'POST', '/api/payments/webhooks/stripe', undefined, undefined, {
      rawJson: e.payload,
      headers: { 'stripe-signature': e.signature },
    })

  return {
    dir: tmp.dir,
    call,
    login,
    root,
    createLamp,
    customer,
    stockOf,
    holdOf,
    query,
    published,
    delivered,
    publish,
    placeOrder,
    orderOf,
    waitForStatus,
    timelineOf,
    orderable,
    payable,
    payOrder,
    paymentOf,
    stripeWebhook,
    /** A running service, to reach what only a test reaches (its store, its jobs). */
    service: running,
    /** Stops a service and starts it again on the same database and bus, with `extra` env on top. */
    async restart(name: Name, extra?: Record<string, string>) {
      await running(name).stop()
      await run(name, extra)
    },
    /** Stops a service until `resume`: what is published for it meanwhile waits on the bus. */
    async halt(name: Name) {
      await running(name).stop()
      delete services[name]
      delete clients[name]
    },
    resume: (name: Name, extra?: Record<string, string>) => run(name, extra),
    /** The service runs in another process, listening at `url`: calls to it go there over HTTP. */
    elsewhere(name: Name, url: string) {
      clients[name] = httpClient({ handle: (r: Request) => fetch(r) }, url)
    },
    async stop() {
      for (const name of (Object.keys(definitions) as Name[]).reverse()) await services[name]?.stop()
      await observer.close()
      await bus.close()
      tmp.cleanup()
    },
  }
}

export type Marketplace = Awaited<ReturnType<typeof marketplace>>
export type { PaymentView }

/** What the tests read of an order (GET /api/orders/:id). */
export interface OrderView {
  id: string
  number: string
  userId: string
  status: string
  payment: string
  lines: { productId: string; quantity: number; unitPrice: { amount: number; currency: string } }[]
  total: { amount: number; currency: string }
  expiresAt: string | null
  // biome-ignore lint/suspicious/noExplicitAny: the outcome's shape depends on its kind
  outcome: Record<string, any> | null
  version: number
}

/** One entry of GET /api/orders/:id/timeline. */
export interface TimelineEntry {
  type: string
  source: string
  eventId: string | null
  causationId: string | null
  from: string | null
  to: string | null
  outcome: 'moved' | 'ignored'
  reason: string | null
  emitted: { type: string; id: string }[]
}
