// `bun run bench:orders`: what placing an order costs, and how long the saga takes to make it unpaid.
//  1. POST /api/orders through the order service's app in process (no network): routing, token,
//     body checks, pricing from the catalogue and the placing transaction (order, lines, outbox
//     row, expiry job, version, timeline). One request after the other, after a warm-up: without
//     an Idempotency-Key, with a fresh key each, and the same key again (a replay).
//  2. placed -> unpaid with the real inventory service on the same bus, at a steady rate: from the
//     request sent to its answer, to the order's unpaid committed (stock.reserved handled by the
//     order service), and to order.awaiting_payment heard on the bus by a group of its own (what
//     payment waits for); and from the answer to unpaid. In process, the saga runs on the event loop
//     the answer waits for: on the in-process bus, the order is often unpaid before its answer is
//     read. On the in-process bus journaled as the embedded mode runs it, and on Kafka.
// Options: --requests 3000 --warmup-requests 500 --rate 100 --seconds 10 --warmup 3
//   --transport memory|kafka|both (Kafka: KAFKA_BROKERS, or --kafka host:port; skipped without one)
//   --skip-post, --skip-saga
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type Bus,
  catalog,
  createEvent,
  type Delivery,
  dlqTopic,
  encodeEvent,
  eventHeaders,
  KafkaBus,
  MemoryBus,
  type RunningService,
  startService,
  topics,
} from '@mart/shared'
import { afterHandled, devTokenSigner, sampleProduct, tempDir, testLogger } from '@mart/shared/testing'
import { definition as inventory } from '../inventory/src/index.ts'
import { definition as order } from '../order/src/index.ts'
import { inUnit, machineLine, type Percentiles, percentiles } from './bench/stats.ts'

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    'warmup-requests': { type: 'string', default: '500' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    transport: { type: 'string', default: 'both' },
    kafka: { type: 'string' },
    partitions: { type: 'string', default: '3' },
    'skip-post': { type: 'boolean', default: false },
    'skip-saga': { type: 'boolean', default: false },
  },
})
const requests = Number(opts.requests)
const warmupRequests = Number(opts['warmup-requests'])
const rate = Number(opts.rate)
const seconds = Number(opts.seconds)
const warmup = Number(opts.warmup)
const partitions = Number(opts.partitions)
const brokers = opts.kafka ?? process.env.KAFKA_BROKERS

/** The catalogue: a few products, each with more stock than any run orders. */
const PRODUCTS = ['p1', 'p2', 'p3', 'p4', 'p5']
const STOCK = 1_000_000_000
const USERS = 20

/** A typical order: two products, one of them twice (merged), and a shipping address. */
const orderBody = (i: number) => ({
  lines: [
    { productId: PRODUCTS[i % PRODUCTS.length], quantity: 1 },
    { productId: PRODUCTS[(i + 1) % PRODUCTS.length], quantity: 2 },
    { productId: PRODUCTS[i % PRODUCTS.length], quantity: 1 },
  ],
  shippingAddress: {
    name: 'Ada Lovelace',
    line1: '12 Example Street',
    city: 'London',
    postalCode: 'N1 9GU',
    country: 'GB',
  },
})

// Services and buses log nothing: a log line per request is not what is measured here.
const silent = (name: string) => testLogger(name)

/** Publishes an event as its producer's relay would (what the harness's `send` does). */
async function send(
  bus: Bus,
  type: 'product.created',
  data: ReturnType<typeof sampleProduct>,
  subject: string,
) {
  const event = createEvent({ type, data, subject, source: 'product' })
  await bus.publish([
    { topic: catalog[type].topic, key: subject, value: encodeEvent(event), headers: eventHeaders(type) },
  ])
}

/** Feeds the catalogue through product.created and waits until the order service (and inventory) know it. */
async function feedCatalogue(bus: Bus, services: RunningService[]) {
  for (const id of PRODUCTS) {
    await send(
      bus,
      'product.created',
      { ...sampleProduct(id, STOCK), price: { amount: 1250 + 100 * PRODUCTS.indexOf(id), currency: 'EUR' } },
      id,
    )
  }
  const tables: Record<string, string> = { order: 'products', inventory: 'stock_items' }
  const deadline = performance.now() + 60_000
  for (const svc of services) {
    const table = tables[svc.name] as string
    const count = svc.store.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`)
    while ((count.get() as { n: number }).n < PRODUCTS.length) {
      if (performance.now() > deadline) throw new Error(`${svc.name} did not get the catalogue within 60 s`)
      await Bun.sleep(10)
    }
  }
}

/** POST /api/orders in process: the whole answer read, as a client would. */
function poster(svc: RunningService, dataDir: string) {
  const app = svc.app as { handle(r: Request): Promise<Response> }
  return async () => {
    const sign = await devTokenSigner(dataDir)
    const tokens = await Promise.all(Array.from({ length: USERS }, () => sign('user')))
    return async (i: number, key?: string, body: unknown = orderBody(i)) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        authorization: `Bearer ${tokens[i % USERS]}`,
      }
      if (key !== undefined) headers['idempotency-key'] = key
      const res = await app.handle(
        new Request('http://order.mart.test/api/orders', {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        }),
      )
      const text = await res.text()
      if (res.status !== 202) {
        throw new Error(`POST /api/orders: ${res.status} ${text}`)
      }
      return text
    }
  }
}

interface PostFigures extends Percentiles {
  name: string
  perSecond: number
  /** The process's CPU time (every thread: relay, checkpoints, jobs too) per request. */
  cpuMs: number
}

/** Part 1: POST /api/orders, one after the other. */
async function postBench(): Promise<PostFigures[]> {
  const tmp = tempDir('mart-bench-orders-')
  const bus = new MemoryBus({ partitions })
  await bus.ensureTopics(topics.flatMap((t) => [t, dlqTopic(t)]))
  const svc = await startService(order, {
    env: { NODE_ENV: 'test', DATA_DIR: tmp.dir },
    bus,
    log: silent('order'),
  })
  try {
    await feedCatalogue(bus, [svc])
    const post = await poster(svc, tmp.dir)()
    const run = async (name: string, n: number, call: (i: number) => Promise<unknown>) => {
      const lat: number[] = []
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        await call(i)
        lat.push(performance.now() - t)
      }
      const ms = performance.now() - t0
      const cpu = process.cpuUsage(cpu0)
      return {
        name,
        ...percentiles(lat),
        perSecond: Math.round((n / ms) * 1000),
        cpuMs: (cpu.user + cpu.system) / 1000 / n,
      }
    }
    // JIT, page cache, the statements' first use: not measured.
    await run('warm-up', warmupRequests, (i) => post(i))
    await run('warm-up', warmupRequests, (i) => post(i, `w-${i}`))
    const replayBody = orderBody(0)
    await post(0, 'replayed', replayBody)
    await run('warm-up', warmupRequests, () => post(0, 'replayed', replayBody))

    return [
      await run('no Idempotency-Key', requests, (i) => post(i)),
      await run('fresh Idempotency-Key', requests, (i) => post(i, `k-${i}`)),
      await run('same key again (replay)', requests, () => post(0, 'replayed', replayBody)),
    ]
  } finally {
    await svc.stop()
    await bus.close()
    tmp.cleanup()
  }
}

interface SagaFigures {
  name: string
  orders: number
  /** From the request sent: its answer, unpaid committed, order.awaiting_payment heard. */
  answered: Percentiles
  unpaid: Percentiles
  heard: Percentiles
  /** From the answer to unpaid committed. */
  afterAnswer: Percentiles
  /** Orders sent per second over the run (the pacing loop shares the event loop with the services). */
  sentPerSecond: number
  /** Orders unpaid per second, from the first sent to the last unpaid and heard. */
  donePerSecond: number
  /** The process's CPU time (every thread) per order, from the first sent to the last unpaid and heard. */
  cpuMs: number
}

/**
 * Part 2: the order and inventory services on `buses` (one shared in-process bus, or one Kafka
 * client each as separate processes would have), orders placed at a steady rate.
 */
async function sagaBench(
  name: string,
  buses: { order: Bus; inventory: Bus; bench: Bus },
): Promise<SagaFigures> {
  const tmp = tempDir('mart-bench-saga-')
  const env = { NODE_ENV: 'test', DATA_DIR: tmp.dir, KAFKA_TOPIC_PARTITIONS: String(partitions) }
  // Unpaid = the order service's transaction that handled stock.reserved committed.
  const unpaidAt = new Map<string, number>()
  const orderBus = afterHandled(buses.order, (d: Delivery) => {
    if (d.headers['event-type'] === 'stock.reserved') unpaidAt.set(d.key, performance.now())
  })
  const services: RunningService[] = []
  try {
    await buses.bench.connect()
    await buses.bench.ensureTopics(topics.flatMap((t) => [t, dlqTopic(t)]))
    services.push(await startService(inventory, { env, bus: buses.inventory, log: silent('inventory') }))
    services.push(await startService(order, { env, bus: orderBus, log: silent('order') }))
    const orderSvc = services[1] as RunningService
    const heardAt = new Map<string, number>()
    const heard = await buses.bench.subscribe({
      group: 'bench-payment',
      topics: ['order.events'],
      handle: async (d) => {
        if (d.headers['event-type'] === 'order.awaiting_payment') heardAt.set(d.key, performance.now())
      },
    })
    try {
      await feedCatalogue(buses.bench, services)
      const post = await poster(orderSvc, tmp.dir)()

      /** Places `rate` orders a second for `secs` seconds; answers when each was sent and answered. */
      const steady = async (secs: number) => {
        const sent = new Map<string, number>()
        const answered = new Map<string, number>()
        const total = Math.round(rate * secs)
        const pending: Promise<void>[] = []
        let placed = 0
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        while (placed < total) {
          // Paced by the clock, not by the timer: a late tick catches up.
          const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1)
          while (placed < due) {
            const at = performance.now()
            pending.push(
              post(placed++).then((text) => {
                const id = (JSON.parse(text) as { id: string }).id
                answered.set(id, performance.now())
                sent.set(id, at)
              }),
            )
          }
          await Bun.sleep(1)
        }
        const sentFor = performance.now() - t0
        await Promise.all(pending)
        const deadline = performance.now() + 120_000
        for (const id of sent.keys()) {
          while (!unpaidAt.has(id) || !heardAt.has(id)) {
            if (performance.now() > deadline) {
              const state = orderSvc.store.sqlite.prepare('SELECT status FROM orders WHERE id = ?').get(id)
              throw new Error(`order ${id} not unpaid within 120 s: ${JSON.stringify(state)}`)
            }
            await Bun.sleep(1)
          }
        }
        // Up to the last order unpaid and heard (polled every 1 ms), not to the end of the sending.
        const last = Math.max(
          ...[...sent.keys()].map((id) => Math.max(unpaidAt.get(id) ?? 0, heardAt.get(id) ?? 0)),
        )
        const cpu = process.cpuUsage(cpu0)
        return {
          sent,
          answered,
          sentPerSecond: (total / sentFor) * 1000,
          donePerSecond: (total / (last - t0)) * 1000,
          cpuMs: (cpu.user + cpu.system) / 1000 / total,
        }
      }

      if (warmup > 0) await steady(warmup)
      const { sent, answered, sentPerSecond, donePerSecond, cpuMs } = await steady(seconds)
      const between = (from: Map<string, number>, to: Map<string, number>) =>
        percentiles([...from].map(([id, t]) => (to.get(id) as number) - t))
      return {
        name,
        orders: sent.size,
        answered: between(sent, answered),
        unpaid: between(sent, unpaidAt),
        afterAnswer: between(answered, unpaidAt),
        heard: between(sent, heardAt),
        sentPerSecond,
        donePerSecond,
        cpuMs,
      }
    } finally {
      await heard.close()
    }
  } finally {
    for (const svc of services.reverse()) await svc.stop()
    tmp.cleanup()
  }
}

const postFigures = opts['skip-post'] ? [] : await postBench()

const sagaFigures: SagaFigures[] = []
let kafkaSkipped: string | undefined
if (!opts['skip-saga']) {
  if (opts.transport !== 'kafka') {
    // As the embedded mode runs it: one bus for every service, every publish journaled first.
    const tmp = tempDir('mart-bench-bus-')
    const bus = new MemoryBus({ partitions, file: join(tmp.dir, 'bus.db') })
    try {
      sagaFigures.push(
        await sagaBench('embedded (memory+journal)', { order: bus, inventory: bus, bench: bus }),
      )
    } finally {
      await bus.close()
      tmp.cleanup()
    }
  }
  if (opts.transport !== 'memory') {
    if (!brokers) {
      kafkaSkipped = 'Kafka skipped: no broker given (set KAFKA_BROKERS=host:port or pass --kafka host:port)'
      console.warn(kafkaSkipped)
    } else {
      // One client per service, as separate processes have; fresh topics and groups for the run.
      const topicPrefix = `bench-orders-${Date.now().toString(36)}.`
      const kafka = (clientId: string) =>
        new KafkaBus({ brokers: brokers.split(','), clientId, partitions, topicPrefix, log: silent('kafka') })
      const buses = { order: kafka('order'), inventory: kafka('inventory'), bench: kafka('bench') }
      try {
        sagaFigures.push(await sagaBench('kafka', buses))
      } finally {
        for (const bus of Object.values(buses)) await bus.close()
      }
    }
  }
}

console.log(
  `\n${machineLine()}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
if (postFigures.length > 0) {
  const f = (ms: number) => inUnit(ms, 'µs')
  console.log(
    `\nPOST /api/orders in process: ${requests} one after the other after ${warmupRequests} of warm-up each (${PRODUCTS.length} products, 3 lines merged to 2, a shipping address)\n`,
  )
  console.log('| request | requests | p50 µs | p90 µs | p99 µs | max µs | requests/s | CPU µs/request |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of postFigures) {
    console.log(
      `| ${r.name} | ${r.count} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${f(r.max)} | ${r.perSecond} | ${f(r.cpuMs)} |`,
    )
  }
}
if (sagaFigures.length > 0 || kafkaSkipped) {
  const f = (ms: number) => inUnit(ms, 'ms')
  console.log(
    `\nplaced -> unpaid, order and inventory services on one bus: ${rate} orders/s for ${seconds} s after ${warmup} s of warm-up. ` +
      'From the request sent: its answer, the order unpaid (stock.reserved handled, committed), order.awaiting_payment heard by another group; and from the answer to unpaid\n',
  )
  console.log(
    '| transport | orders | sent/s | unpaid/s | CPU µs/order | POST answered p50 / p99 ms | unpaid p50 ms | p90 ms | p99 ms | max ms | unpaid after the answer p50 / p99 ms | awaiting_payment heard p50 / p99 ms |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of sagaFigures) {
    const { unpaid: u, answered: a, afterAnswer: aa, heard: h } = r
    console.log(
      `| ${r.name} | ${r.orders} | ${Math.round(r.sentPerSecond)} | ${Math.round(r.donePerSecond)} | ${inUnit(r.cpuMs, 'µs', 0)} | ${f(a.p50)} / ${f(a.p99)} | ${f(u.p50)} | ${f(u.p90)} | ${f(u.p99)} | ${f(u.max)} | ${f(aa.p50)} / ${f(aa.p99)} | ${f(h.p50)} / ${f(h.p99)} |`,
    )
  }
  if (kafkaSkipped) console.log(`\n${kafkaSkipped}`)
}
process.exit(0)
