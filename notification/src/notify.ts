// Turns an event into notices: for each notice it triggers, the recipients, their in-app
// notification and, where they want email, one delivery row and its send job, all in the handler's
// inbox transaction. Rows are unique per (event, notice, recipient): a redelivered event adds nothing.
import { createHash } from 'node:crypto'
import { type Event, onceFor, type Tx } from '@mart/shared'
import { and, eq, sql } from 'drizzle-orm'
import type { Category } from './categories.ts'
import type { NotificationChanges } from './changes.ts'
import type * as schema from './db/schema.ts'
import { deliveries, notifications, orders, preferences, products, recipients } from './db/schema.ts'
import type { AnyNotice, NoticeContext, OrderInfo } from './notices/notice.ts'

export type T = Tx<typeof schema>
type Db = T['db']

const p = sql.placeholder
/** Prepared once per database: every event that triggers notices runs most of them. */
const statements = onceFor((db: Db) => ({
  addNotification: db
    .insert(notifications)
    .values({
      id: p('id'),
      userId: p('userId'),
      category: p('category'),
      notice: p('notice'),
      title: p('title'),
      body: p('body'),
      subject: p('subject'),
      eventId: p('eventId'),
      readAt: null,
      createdAt: p('createdAt'),
    })
    .onConflictDoNothing()
    .prepare(),
  addDelivery: db
    .insert(deliveries)
    .values({
      id: p('id'),
      eventId: p('eventId'),
      notice: p('notice'),
      address: p('address'),
      userId: p('userId'),
      messageId: p('messageId'),
      subject: p('subject'),
      text: p('text'),
      html: p('html'),
      sentAt: null,
      response: null,
      createdAt: p('createdAt'),
    })
    .onConflictDoNothing()
    .prepare(),
  recipient: db
    .select()
    .from(recipients)
    .where(eq(recipients.id, p('id')))
    .prepare(),
  admins: db
    .select()
    .from(recipients)
    .where(and(eq(recipients.role, 'admin'), eq(recipients.active, true)))
    .prepare(),
  emailOn: db
    .select({ email: preferences.email })
    .from(preferences)
    .where(and(eq(preferences.userId, p('userId')), eq(preferences.category, p('category'))))
    .prepare(),
  order: db
    .select()
    .from(orders)
    .where(eq(orders.id, p('id')))
    .prepare(),
  productName: db
    .select({ name: products.name })
    .from(products)
    .where(eq(products.id, p('id')))
    .prepare(),
}))

/** The job that sends one delivery; its key is the delivery id. */
export const SEND_JOB = 'mail.send'

/** The same (event, notice, address) always makes the same Message-ID. */
export const messageIdOf = (eventId: string, notice: string, address: string) =>
  `<${createHash('sha256').update(`${eventId}\0${notice}\0${address.toLowerCase()}`).digest('hex').slice(0, 40)}@mart.notifications>`

interface Recipient {
  userId: string | null
  username: string
  /** Null: in-app only (an address unknown yet). */
  email: string | null
}

export class Notifier {
  private readonly byTrigger = new Map<string, AnyNotice[]>()

  constructor(
    notices: AnyNotice[],
    private readonly settings: { publicUrl: string; adminEmails: string[] },
    private readonly changes: NotificationChanges,
  ) {
    for (const n of notices) this.byTrigger.set(n.trigger, [...(this.byTrigger.get(n.trigger) ?? []), n])
  }

  /** The event types some notice reacts to. */
  get triggers(): string[] {
    return [...this.byTrigger.keys()]
  }

  notify(t: T, event: Event): void {
    const triggered = this.byTrigger.get(event.type)
    if (!triggered) return
    const st = statements(t.db)
    const ctx = this.context(t)
    for (const notice of triggered) {
      const data = event.data as never
      if (notice.when && !notice.when(data, ctx)) continue
      for (const r of this.recipientsOf(t, notice, data, ctx)) {
        const message = notice.write(data, { username: r.username }, ctx)
        const now = Date.now()
        if (r.userId) {
          const added = st.addNotification.run({
            id: Bun.randomUUIDv7(),
            userId: r.userId,
            category: notice.category,
            notice: notice.name,
            title: message.title,
            body: message.text,
            subject: notice.about?.(data) ?? null,
            eventId: event.id,
            createdAt: now,
          })
          const userId = r.userId
          if (added.changes === 1) t.afterCommit(() => this.changes.changed(userId))
        }
        if (!r.email || (r.userId && !this.wantsEmail(t, r.userId, notice.category))) continue
        const id = Bun.randomUUIDv7()
        const added = st.addDelivery.run({
          id,
          eventId: event.id,
          notice: notice.name,
          address: r.email,
          userId: r.userId,
          messageId: messageIdOf(event.id, notice.name, r.email),
          subject: message.title,
          text: message.text,
          html: message.html,
          createdAt: now,
        })
        if (added.changes === 1) t.schedule(SEND_JOB, { key: id })
      }
    }
  }

  private recipientsOf(t: T, notice: AnyNotice, data: never, ctx: NoticeContext): Recipient[] {
    if (notice.audience === 'user') {
      const userId = notice.userOf?.(data, ctx) ?? (data as { userId?: string }).userId
      if (!userId) return []
      const known = statements(t.db).recipient.get({ id: userId })
      // Disabled or deleted: nothing new. Not heard of yet: in-app only (no address to write to).
      if (known && !known.active) return []
      return [{ userId, username: known?.username ?? 'there', email: known?.email ?? null }]
    }
    const admins = statements(t.db)
      .admins.all()
      .map((a) => ({ userId: a.id, username: a.username, email: a.email as string | null }))
    const known = new Set(admins.map((a) => a.email?.toLowerCase()))
    const extra = this.settings.adminEmails
      .filter((e) => !known.has(e.toLowerCase()))
      .map((email) => ({ userId: null, username: 'admin', email }))
    return [...admins, ...extra]
  }

  private wantsEmail(t: T, userId: string, category: Category): boolean {
    return statements(t.db).emailOn.get({ userId, category })?.email ?? true
  }

  private context(t: T): NoticeContext {
    return {
      publicUrl: this.settings.publicUrl,
      order: (id) => {
        const o = statements(t.db).order.get({ id })
        return o ? ({ ...o, lines: JSON.parse(o.lines) } as OrderInfo) : undefined
      },
      productName: (id) => statements(t.db).productName.get({ id })?.name,
    }
  }
}
