// The inventory service: how many of each product there are, and what orders hold of them.
import { join } from 'node:path'
import { runStandalone, type ServiceDefinition } from '@mart/shared'
import { buildApp } from './app.ts'
import { InventoryConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { handlers } from './handlers.ts'
import { Reservations } from './reservations.ts'
import { Stock } from './stock.ts'

export const definition: ServiceDefinition<typeof schema, typeof InventoryConfig> = {
  name: 'inventory',
  config: InventoryConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: ['inventory.events'],
  consumes: [
    'product.created',
    'product.deleted',
    'order.placed',
    'order.cancelled',
    'order.expired',
    'order.rejected',
    'order.paid',
    'order.shipped',
    'payment.succeeded',
  ],
  build({ config, log, store, verifier, ready }) {
    const stock = new Stock(store, config.DEFAULT_LOW_STOCK_THRESHOLD)
    const holds = new Reservations(log.child({ component: 'holds' }))
    return { app: buildApp({ config, log, stock, verifier, ready }), handlers: handlers(stock, holds) }
  },
}

if (import.meta.main) await runStandalone(definition)
