// The send job: one delivery handed to the mailer outside any transaction, then marked sent in one.
// A crash after the server took the mail and before the mark commits sends it again, with the same
// Message-ID: that window, and only that one, can make a duplicate (docs/architecture.md).
import { defineJob, type JobKinds, onceFor, PermanentError, type Store } from '@mart/shared'
import { and, eq, isNull, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { deliveries } from './db/schema.ts'
import type { Mailer } from './mailer.ts'
import { SEND_JOB } from './notify.ts'

const p = sql.placeholder
/** Prepared once per database: every email reads its delivery and marks it sent. */
const statements = onceFor((db: Store<typeof schema>['db']) => ({
  delivery: db
    .select()
    .from(deliveries)
    .where(eq(deliveries.id, p('id')))
    .prepare(),
  // set() takes values or SQL, not placeholders.
  markSent: db
    .update(deliveries)
    .set({ sentAt: sql`${p('sentAt')}`, response: sql`${p('response')}` })
    .where(and(eq(deliveries.id, p('id')), isNull(deliveries.sentAt)))
    .prepare(),
}))

export function sendingJobs(
  store: Store<typeof schema>,
  mailer: Mailer,
  retry: { maxAttempts: number; initialMs: number },
): JobKinds<typeof schema> {
  return {
    [SEND_JOB]: defineJob<typeof schema, undefined, string | null>({
      // An SMTP server that is down for hours still gets the mail: backoff up to an hour between tries.
      retry: { attempts: retry.maxAttempts, backoff: { initialMs: retry.initialMs, maxMs: 3_600_000 } },
      async perform(job) {
        const d = statements(store.db).delivery.get({ id: job.key })
        if (!d) throw new PermanentError('no such delivery')
        if (d.sentAt !== null) return null
        return mailer.send({
          to: d.address,
          subject: d.subject,
          text: d.text,
          html: d.html,
          messageId: d.messageId,
        })
      },
      record(job, response, t) {
        if (response === null) return
        statements(t.db).markSent.run({ id: job.key, sentAt: Date.now(), response: response.slice(0, 500) })
      },
    }),
  }
}
