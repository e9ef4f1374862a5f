// `bun run bench:bus`: the event bus through the outbox, per transport. Prints, for each:
//  - latency at a steady rate: commit of the producer's transaction -> the consumer's transaction
//    (inbox + effect) committed, p50/p90/p99/max, one event per producer transaction;
//  - throughput: events/s from commit to handled when committing as fast as possible.
// Options: --rate 1000 --seconds 10 --warmup 3 --burst 20000 --transport memory|kafka|both
// ("memory" runs the in-process bus twice: in memory only, and journaled as in the embedded mode)
// Databases are set up as the services set them up (WAL, background checkpoints).
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type Bus,
  consume,
  createLogger,
  KafkaBus,
  MemoryBus,
  OutboxRelay,
  openStore,
  type Store,
  tx,
} from '@mart/shared'
import { afterHandled, sampleProduct, tempDir } from '@mart/shared/testing'
import { inUnit, machineLine, percentiles } from './bench/stats.ts'
import { withKafka } from './with-kafka.ts'

const { values: opts } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    burst: { type: 'string', default: '20000' },
    transport: { type: 'string', default: 'both' },
    partitions: { type: 'string', default: '3' },
  },
})
const rate = Number(opts.rate)
const seconds = Number(opts.seconds)
const warmup = Number(opts.warmup)
const burst = Number(opts.burst)
const partitions = Number(opts.partitions)
const log = createLogger({ service: 'bench', level: 'warn' })

interface Rig {
  producer: Store
  relay: OutboxRelay
  handled: Map<string, number>
  stop(): Promise<void>
}

async function rig(bus: Bus, dir: string): Promise<Rig> {
  await bus.connect()
  await bus.ensureTopics(['product.events', 'product.events.dlq'])
  const producer = openStore({
    file: join(dir, 'producer.db'),
    source: 'product',
    backgroundCheckpointMs: 250,
  })
  const consumerDb = openStore({
    file: join(dir, 'consumer.db'),
    source: 'inventory',
    backgroundCheckpointMs: 250,
  })
  consumerDb.sqlite.exec('CREATE TABLE stock (product_id TEXT PRIMARY KEY, qty INTEGER NOT NULL)')
  const upsert = consumerDb.sqlite.prepare(
    'INSERT INTO stock (product_id, qty) VALUES (?, ?) ON CONFLICT (product_id) DO UPDATE SET qty = excluded.qty',
  )
  const handled = new Map<string, number>()
  // Handled = the consumer's transaction (inbox row + effect) committed: stamp when handle resolves.
  const timed = afterHandled(bus, (d) => {
    handled.set(d.key, performance.now())
  })
  const sub = await consume({
    bus: timed,
    store: consumerDb,
    group: 'bench-consumer',
    log,
    handlers: {
      'product.created': (e) => {
        upsert.run(e.data.id, e.data.initialStock)
      },
    },
  })
  const relay = new OutboxRelay(producer, bus, log)
  relay.start()
  return {
    producer,
    relay,
    handled,
    async stop() {
      await sub.close()
      await relay.stop()
      await bus.close()
      producer.close()
      consumerDb.close()
    },
  }
}

const data = (id: string) => sampleProduct(id, 10)

/** Commits `rate` events a second for `secs` seconds, one per transaction; latencies of those. */
async function steady(r: Rig, secs: number, tag: string) {
  const started = new Map<string, number>()
  const total = rate * secs
  const tickMs = 1
  const perTick = rate / (1000 / tickMs)
  let sent = 0
  const t0 = performance.now()
  while (sent < total) {
    // Pace by the clock, not by the timer: a late tick catches up.
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + perTick)
    while (sent < due) {
      const id = `${tag}${sent++}`
      tx(r.producer, (t) => {
        t.publish('product.created', data(id), { subject: id })
      })
      started.set(id, performance.now())
    }
    await Bun.sleep(tickMs)
  }
  await waitAll(r, [...started.keys()])
  const { p50, p90, p99, max } = percentiles([...started].map(([id, t]) => (r.handled.get(id) as number) - t))
  return { events: total, p50, p90, p99, max }
}

async function throughput(r: Rig) {
  const t0 = performance.now()
  for (let i = 0; i < burst; i += 100) {
    // 100 events per transaction: the producer side is not what is measured here.
    tx(r.producer, (t) => {
      for (let j = i; j < Math.min(burst, i + 100); j++)
        t.publish('product.created', data(`b${j}`), { subject: `b${j}` })
    })
    if (i % 2000 === 0) await Bun.sleep(0) // let the relay and consumer run
  }
  await waitAll(
    r,
    Array.from({ length: burst }, (_, i) => `b${i}`),
  )
  const ms = performance.now() - t0
  return { events: burst, seconds: ms / 1000, perSecond: Math.round((burst / ms) * 1000) }
}

async function waitAll(r: Rig, ids: string[]) {
  const deadline = performance.now() + 120_000
  for (const id of ids) {
    while (!r.handled.has(id)) {
      if (performance.now() > deadline) throw new Error(`${id} not handled within 120 s`)
      await Bun.sleep(5)
    }
  }
}

async function run(name: string, makeBus: (dir: string) => Bus) {
  const tmp = tempDir('mart-bench-')
  try {
    const r = await rig(makeBus(tmp.dir), tmp.dir)
    if (warmup > 0) await steady(r, warmup, 'w') // JIT, page cache, connections: not measured
    const s = await steady(r, seconds, 's')
    const t = await throughput(r)
    await r.stop()
    return { name, ...s, throughput: t }
  } finally {
    tmp.cleanup()
  }
}

const results = []
if (opts.transport !== 'kafka') {
  results.push(await run('memory', () => new MemoryBus({ partitions })))
  // As the embedded mode runs it: every publish is appended to the journal file first.
  results.push(await run('memory+journal', (dir) => new MemoryBus({ partitions, file: join(dir, 'bus.db') })))
}
if (opts.transport !== 'memory') {
  const kafka = withKafka()
  if (!kafka.brokers) {
    console.warn(`kafka skipped: ${kafka.missing}`)
  } else {
    try {
      const bus = new KafkaBus({
        brokers: kafka.brokers.split(','),
        clientId: 'bench',
        partitions,
        topicPrefix: `bench-${Date.now()}.`,
        log,
      })
      results.push(await run('kafka', () => bus))
    } finally {
      kafka.release()
    }
  }
}

const f = (ms: number) => inUnit(ms, 'ms')
console.log(
  `\nbus benchmark: ${rate} events/s for ${seconds} s after ${warmup} s of warm-up (one event per transaction), then ${burst} as fast as possible`,
)
console.log(`${machineLine()}\n`)
console.log('| transport | events | p50 ms | p90 ms | p99 ms | max ms | throughput events/s |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.events} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${f(r.max)} | ${r.throughput.perSecond} |`,
  )
}
process.exit(0)
