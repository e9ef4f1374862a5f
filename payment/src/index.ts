// The payment service: Stripe Checkout and cash on delivery for unpaid orders, refunds, and the
// webhook, success page and reconciliation that settle a payment whichever comes first.
import { join } from 'node:path'
import { runStandalone, type ServiceDefinition } from '@mart/shared'
import { AdminActions } from './admin.ts'
import { buildApp } from './app.ts'
import { Checkout } from './checkout.ts'
import { checkStripeConfig, PaymentConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { handlers } from './handlers.ts'
import { paymentJobs } from './jobs.ts'
import { ReturnPages } from './pages.ts'
import { PaymentBook } from './payments.ts'
import { PaymentReads } from './reads.ts'
import { StripeGateway } from './stripe.ts'
import { StripeWebhooks } from './webhooks.ts'

export const definition: ServiceDefinition<typeof schema, typeof PaymentConfig> = {
  name: 'payment',
  config: PaymentConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: ['payment.events'],
  consumes: [
    'order.placed',
    'order.awaiting_payment',
    'order.confirmed',
    'order.paid',
    'order.cancelled',
    'order.expired',
    'order.rejected',
  ],
  build({ config, log, store, verifier, ready }) {
    checkStripeConfig(config)
    const stripe = new StripeGateway(config)
    const book = new PaymentBook(log.child({ component: 'payments' }))
    const reads = new PaymentReads(store)
    const checkout = new Checkout(store, book, stripe, config, log)
    const webhooks = new StripeWebhooks(store, book, stripe, log.child({ component: 'webhooks' }))
    const pages = new ReturnPages(store, reads, book, stripe, log)
    const admin = new AdminActions(store, book)
    return {
      app: buildApp({ config, log, checkout, webhooks, pages, reads, admin, verifier, ready }),
      handlers: handlers(book),
      jobs: paymentJobs(store, book, stripe, log.child({ component: 'stripe-jobs' })),
    }
  },
}

if (import.meta.main) await runStandalone(definition)
