// The order service: orders, their lines priced from the catalogue, and its half of the saga.
import { join } from 'node:path'
import { defineJob, runStandalone, type ServiceDefinition } from '@mart/shared'
import { buildApp } from './app.ts'
import { OrderChanges } from './changes.ts'
import { Commands } from './commands.ts'
import { OrderConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { handlers } from './handlers.ts'
import { orderMetrics } from './metrics.ts'
import { Placing } from './placing.ts'
import { OrderReads } from './reads.ts'
import { EXPIRY_JOB, OrderSaga } from './saga.ts'
import { OrderStreams } from './stream.ts'

export const definition: ServiceDefinition<typeof schema, typeof OrderConfig> = {
  name: 'order',
  config: OrderConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: ['order.events'],
  consumes: [
    'product.created',
    'product.updated',
    'product.deleted',
    'stock.reserved',
    'stock.rejected',
    'payment.cod_selected',
    'payment.succeeded',
    'payment.refunded',
  ],
  build({ config, log, store, verifier, ready }) {
    const changes = new OrderChanges()
    const saga = new OrderSaga(log.child({ component: 'saga' }), changes)
    const placing = new Placing(store, saga, config.ORDER_RESERVATION_TTL_SECONDS * 1000)
    const reads = new OrderReads(store)
    const commands = new Commands(store, saga)
    const streams = new OrderStreams({ reads, changes, verifier, log: log.child({ component: 'stream' }) })
    return {
      app: buildApp({ config, log, placing, reads, commands, streams, verifier, ready }),
      handlers: handlers(saga),
      jobs: {
        // The order was not paid in time: expired, unless something moved it on meanwhile.
        [EXPIRY_JOB]: defineJob<typeof schema>({
          run: (job, t) =>
            void saga.apply(t, job.key, { input: 'expire', type: EXPIRY_JOB, source: 'order' }),
        }),
      },
      endStreams: () => streams.endAll(),
      metrics: orderMetrics(store),
    }
  },
}

if (import.meta.main) await runStandalone(definition)
