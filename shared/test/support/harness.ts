import { join } from 'node:path'
import type { Logger } from 'pino'
import {
  type Bus,
  type BusMessage,
  consume,
  type Handlers,
  OutboxRelay,
  openStore,
  type RetryPolicy,
  type Schema,
  type Store,
  tx,
} from '../../src/index.ts'
import { collect, sampleProduct, testLogger } from '../../src/testing.ts'

export { collect }

/** "Some event keyed by a product" in these tests. */
export const product = sampleProduct

/** A producing service: a store with a domain table, and its outbox relay on `bus`. */
export function producer(dir: string, bus: Bus, log: Logger = testLogger('producer')) {
  const store = openStore({ file: join(dir, 'producer.db'), source: 'product' })
  store.sqlite.exec('CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, stock INTEGER NOT NULL)')
  const relay = new OutboxRelay(store, bus, log, { pollMs: 200 })
  const insert = store.sqlite.prepare('INSERT INTO products (id, stock) VALUES (?, ?)')
  return {
    store,
    relay,
    /** Writes a product row and stages product.created in one transaction (keyed by `subject`). */
    create(id: string, subject = id) {
      tx(store, (t) => {
        insert.run(id, 1)
        t.publish('product.created', product(id), { subject })
      })
    },
    count: () => (store.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n,
    async stop() {
      await relay.stop()
      store.close()
    },
  }
}

/** A consuming service: records each applied product.created in a table, in arrival order. */
export async function consumer(
  dir: string,
  bus: Bus,
  group: string,
  opts: { retry?: RetryPolicy; onEvent?: (id: string) => void; log?: Logger } = {},
) {
  const store = openStore({ file: join(dir, `${group}.db`), source: 'inventory' })
  store.sqlite.exec(
    'CREATE TABLE IF NOT EXISTS applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, product_id TEXT NOT NULL, event_id TEXT NOT NULL)',
  )
  const insert = store.sqlite.prepare('INSERT INTO applied (product_id, event_id) VALUES (?, ?)')
  const handlers: Handlers<Schema> = {
    'product.created': (event) => {
      opts.onEvent?.(event.data.id)
      insert.run(event.data.id, event.id)
    },
  }
  const sub = await consume({
    bus,
    store,
    group,
    handlers,
    log: opts.log ?? testLogger(group),
    retry: opts.retry ?? { attempts: 3, backoff: { initialMs: 5, maxMs: 20 } },
  })
  return {
    store,
    sub,
    applied: () =>
      store.sqlite
        .prepare('SELECT product_id AS id, event_id AS eventId FROM applied ORDER BY seq')
        .all() as {
        id: string
        eventId: string
      }[],
    inboxRows: () =>
      (
        store.sqlite.prepare('SELECT count(*) AS n FROM mart_inbox WHERE consumer = ?').get(group) as {
          n: number
        }
      ).n,
    async stop() {
      await sub.close()
      store.close()
    },
  }
}

export const rawMessage = (topic: string, key: string, value: string): BusMessage => ({
  topic,
  key,
  value,
  headers: { 'content-type': 'application/json' },
})

export type { Store }
