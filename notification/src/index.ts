// The notification service: in-app notifications and the email sent for them, from other
// services' events, each notice one file under notices/.
import { join } from 'node:path'
import { runStandalone, type ServiceDefinition } from '@mart/shared'
import { buildApp } from './app.ts'
import { NotificationChanges } from './changes.ts'
import { NotificationConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { handlers } from './handlers.ts'
import { Inbox } from './inbox.ts'
import { Ledger } from './ledger.ts'
import { createMailer } from './mailer.ts'
import { notices } from './notices/index.ts'
import { Notifier } from './notify.ts'
import { sendingJobs } from './sending.ts'
import { NotificationStreams } from './stream.ts'

const adminEmails = (list: string) =>
  list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)

const notifier = (
  config: { PUBLIC_URL: string; ADMIN_NOTIFY_EMAILS: string },
  changes = new NotificationChanges(),
) =>
  new Notifier(
    notices,
    { publicUrl: config.PUBLIC_URL, adminEmails: adminEmails(config.ADMIN_NOTIFY_EMAILS) },
    changes,
  )

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
    const changes = new NotificationChanges()
    const inbox = new Inbox(store)
    const streams = new NotificationStreams({
      inbox,
      changes,
      verifier,
      log: log.child({ component: 'stream' }),
    })
    return {
      app: buildApp({
        config,
        log,
        store,
        inbox,
        ledger: new Ledger(store),
        changes,
        streams,
        verifier,
        ready,
      }),
      handlers: handlers(notifier(config, changes)),
      jobs: sendingJobs(store, mailer, {
        maxAttempts: config.EMAIL_MAX_ATTEMPTS,
        initialMs: config.EMAIL_RETRY_INITIAL_MS,
      }),
      endStreams: () => streams.endAll(),
      stop: () => mailer.close(),
    }
  },
}

if (import.meta.main) await runStandalone(definition)
