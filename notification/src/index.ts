// The notification service: in-app notifications and the email sent for them, from other
// services' events, each notice one file under notices/.
import { join } from 'node:path'
import { runStandalone, type ServiceDefinition } from '@mart/shared'
import { buildApp } from './app.ts'
import { NotificationConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { handlers } from './handlers.ts'
import { Inbox } from './inbox.ts'
import { Ledger } from './ledger.ts'
import { createMailer } from './mailer.ts'
import { notices } from './notices/index.ts'
import { Notifier } from './notify.ts'
import { sendingJobs } from './sending.ts'

const adminEmails = (list: string) =>
  list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)

const notifier = (config: { PUBLIC_URL: string; ADMIN_NOTIFY_EMAILS: string }) =>
  new Notifier(notices, {
    publicUrl: config.PUBLIC_URL,
    adminEmails: adminEmails(config.ADMIN_NOTIFY_EMAILS),
  })

export const definition: ServiceDefinition<typeof schema, typeof NotificationConfig> = {
  name: 'notification',
  config: NotificationConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: [],
  consumes: Object.keys(
    handlers(notifier({ PUBLIC_URL: '', ADMIN_NOTIFY_EMAILS: '' })),
  ) as ServiceDefinition['consumes'],
  build({ config, log, store, verifier, ready }) {
    const mailer = createMailer(config)
    log.info({ mail: mailer.describe }, 'email goes to')
    return {
      app: buildApp({
        config,
        log,
        store,
        inbox: new Inbox(store),
        ledger: new Ledger(store),
        verifier,
        ready,
      }),
      handlers: handlers(notifier(config)),
      jobs: sendingJobs(store, mailer, {
        maxAttempts: config.EMAIL_MAX_ATTEMPTS,
        initialMs: config.EMAIL_RETRY_INITIAL_MS,
      }),
      stop: () => mailer.close(),
    }
  },
}

if (import.meta.main) await runStandalone(definition)
