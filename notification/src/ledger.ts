// The email delivery ledger admins read: each delivery with where it stands (sent, queued,
// retrying, dead) from its row and its send job, and a retry for one that died.
import {
  conflict,
  keysetPages,
  notFound,
  type Page,
  type PageRequest,
  perStore,
  type Store,
  tx,
} from '@mart/shared'
import { Type } from '@sinclair/typebox'
import type * as schema from './db/schema.ts'
import { SEND_JOB } from './notify.ts'

export const deliveryStatuses = ['sent', 'queued', 'retrying', 'dead'] as const
export type DeliveryStatus = (typeof deliveryStatuses)[number]
export const deliveryPages = keysetPages(Type.String({ maxLength: 64 }))

interface LedgerRow {
  id: string
  eventId: string
  notice: string
  address: string
  userId: string | null
  messageId: string
  subject: string
  sentAt: number | null
  response: string | null
  createdAt: number
  state: string | null
  attempts: number | null
  lastError: string | null
  runAt: number | null
}

// The status is the row's and its job's together: sent once the server took it; otherwise what the
// job says (waiting for its first try, retrying after a failure, or dead past its budget).
const STATUS = `CASE WHEN d.sent_at IS NOT NULL THEN 'sent' WHEN j.state = 'dead' THEN 'dead'
  WHEN j.attempts > 0 THEN 'retrying' ELSE 'queued' END`

const SELECT = `SELECT d.id, d.event_id AS eventId, d.notice, d.address, d.user_id AS userId,
     d.message_id AS messageId, d.subject, d.sent_at AS sentAt, d.response, d.created_at AS createdAt,
     j.state, j.attempts, j.last_error AS lastError, j.run_at AS runAt
   FROM deliveries d LEFT JOIN mart_jobs j ON j.kind = '${SEND_JOB}' AND j.key = d.id`

const statements = perStore((store) => ({
  // Named parameters: better-sqlite3 refuses numbered ones (?1) with "Too many parameter values".
  page: store.sqlite.prepare<[{ status: string | null; after: string | null; limit: number }], LedgerRow>(
    `${SELECT} WHERE (@status IS NULL OR ${STATUS} = @status) AND (@after IS NULL OR d.id < @after)
     ORDER BY d.id DESC LIMIT @limit`,
  ),
  one: store.sqlite.prepare<[string], LedgerRow>(`${SELECT} WHERE d.id = ?`),
}))

const viewOf = (r: LedgerRow) => ({
  id: r.id,
  status: (r.sentAt !== null
    ? 'sent'
    : r.state === 'dead'
      ? 'dead'
      : (r.attempts ?? 0) > 0
        ? 'retrying'
        : 'queued') as DeliveryStatus,
  notice: r.notice,
  to: r.address,
  userId: r.userId,
  subject: r.subject,
  messageId: r.messageId,
  eventId: r.eventId,
  attempts: r.attempts ?? 0,
  lastError: r.lastError,
  nextAttemptAt:
    r.sentAt === null && r.state !== 'dead' && r.runAt !== null ? new Date(r.runAt).toISOString() : null,
  sentAt: r.sentAt === null ? null : new Date(r.sentAt).toISOString(),
  response: r.response,
  createdAt: new Date(r.createdAt).toISOString(),
})
export type DeliveryView = ReturnType<typeof viewOf>

export class Ledger {
  constructor(private readonly store: Store<typeof schema>) {}

  list(q: PageRequest & { status?: DeliveryStatus | undefined }): Page<DeliveryView> {
    const { limit, after } = deliveryPages.read(q)
    const rows = statements(this.store).page.all({
      status: q.status ?? null,
      after: after ?? null,
      limit: limit + 1,
    })
    const page = deliveryPages.page(rows, limit, (r) => r.id)
    return { items: page.items.map(viewOf), nextCursor: page.nextCursor }
  }

  /**
   * Sends a delivery that is not sent yet again, now, with a fresh budget (a dead one, say). Not
   * one being sent right now: cancelling that send would discard its outcome, and the email the
   * server took would be sent a second time.
   */
  retry(id: string): DeliveryView {
    tx(this.store, (t) => {
      const d = statements(this.store).one.get(id)
      if (!d) throw notFound('no such delivery')
      if (d.sentAt !== null) throw conflict('this email was sent already')
      if (d.state === 'running') throw conflict('this email is being sent right now')
      t.cancelJob(SEND_JOB, id)
      t.schedule(SEND_JOB, { key: id })
    })
    return viewOf(statements(this.store).one.get(id) as LedgerRow)
  }
}
