// The product service: the catalogue (what is sold, at what price) and, read from inventory's
// events, whether it is in stock.
import { join } from 'node:path'
import { runStandalone, type ServiceDefinition } from '@mart/shared'
import { buildApp } from './app.ts'
import { ProductConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { handlersFor } from './handlers.ts'
import { PageCache } from './page-cache.ts'
import { Products } from './products.ts'

export const definition: ServiceDefinition<typeof schema, typeof ProductConfig> = {
  name: 'product',
  config: ProductConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: ['product.events'],
  consumes: ['stock.adjusted'],
  build({ config, log, store, verifier, ready }) {
    const pages = new PageCache()
    const products = new Products(store, pages)
    return { app: buildApp({ config, log, products, pages, verifier, ready }), handlers: handlersFor(pages) }
  },
}

if (import.meta.main) await runStandalone(definition)
