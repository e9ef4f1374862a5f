// The product service: the catalogue (what is sold, at what price) and, read from inventory's
// events, whether it is in stock.
import { join } from 'node:path'
import { runStandalone, type ServiceDefinition } from '@mart/shared'
import { buildApp } from './app.ts'
import { ProductConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { handlers } from './handlers.ts'
import { Products } from './products.ts'

export const definition: ServiceDefinition<typeof schema, typeof ProductConfig> = {
  name: 'product',
  config: ProductConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: ['product.events'],
  consumes: ['stock.adjusted'],
  build({ config, log, store, verifier, ready }) {
    const products = new Products(store)
    return { app: buildApp({ config, log, products, verifier, ready }), handlers }
  },
}

if (import.meta.main) await runStandalone(definition)
