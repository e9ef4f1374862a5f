// Turns an event into notices: for each notice it triggers, the recipients, their in-app
// notification and, where they want email, one delivery row and its send job, all in the handler's
// inbox transaction. Rows are unique per (event, notice, recipient): a redelivered event adds nothing.
import { createHash } from 'node:crypto'
import type { Event, Tx } from '@mart/shared'
import { and, eq } from 'drizzle-orm'
import type { Category } from './categories.ts'
import type { NotificationChanges } from './changes.ts'
import type * as schema from './db/schema.ts'
import { deliveries, notifications, orders, preferences, products, recipients } from './db/schema.ts'
import type { AnyNotice, NoticeContext, OrderInfo } from './notices/notice.ts'

export type T = Tx<typeof schema>

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
    const ctx = this.context(t)
    for (const notice of this.byTrigger.get(event.type) ?? []) {
      const data = event.data as never
      if (notice.when && !notice.when(data, ctx)) continue
      for (const r of this.recipientsOf(t, notice, data, ctx)) {
        const message = notice.write(data, { username: r.username }, ctx)
        const now = Date.now()
        if (r.userId) {
          const added = t.db
            .insert(notifications)
            .values({
              id: Bun.randomUUIDv7(),
              userId: r.userId,
              category: notice.category,
              notice: notice.name,
              title: message.title,
              body: message.text,
              subject: notice.about?.(data) ?? null,
              eventId: event.id,
              readAt: null,
              createdAt: now,
            })
            .onConflictDoNothing()
            .run()
          const userId = r.userId
          if (added.changes === 1) t.afterCommit(() => this.changes.changed(userId))
        }
        if (!r.email || (r.userId && !this.wantsEmail(t, r.userId, notice.category))) continue
        const id = Bun.randomUUIDv7()
        const added = t.db
          .insert(deliveries)
          .values({
            id,
            eventId: event.id,
            notice: notice.name,
            address: r.email,
            userId: r.userId,
            messageId: messageIdOf(event.id, notice.name, r.email),
            subject: message.title,
            text: message.text,
            html: message.html,
            sentAt: null,
            response: null,
            createdAt: now,
          })
          .onConflictDoNothing()
          .run()
        if (added.changes === 1) t.schedule(SEND_JOB, { key: id })
      }
    }
  }

  private recipientsOf(t: T, notice: AnyNotice, data: never, ctx: NoticeContext): Recipient[] {
    if (notice.audience === 'user') {
      const userId = notice.userOf?.(data, ctx) ?? (data as { userId?: string }).userId
      if (!userId) return []
      const known = t.db.select().from(recipients).where(eq(recipients.id, userId)).get()
      // Disabled or deleted: nothing new. Not heard of yet: in-app only (no address to write to).
      if (known && !known.active) return []
      return [{ userId, username: known?.username ?? 'there', email: known?.email ?? null }]
    }
    const admins = t.db
      .select()
      .from(recipients)
      .where(and(eq(recipients.role, 'admin'), eq(recipients.active, true)))
      .all()
      .map((a) => ({ userId: a.id, username: a.username, email: a.email as string | null }))
    const known = new Set(admins.map((a) => a.email?.toLowerCase()))
    const extra = this.settings.adminEmails
      .filter((e) => !known.has(e.toLowerCase()))
      .map((email) => ({ userId: null, username: 'admin', email }))
    return [...admins, ...extra]
  }

  private wantsEmail(t: T, userId: string, category: Category): boolean {
    const pref = t.db
      .select({ email: preferences.email })
      .from(preferences)
      .where(and(eq(preferences.userId, userId), eq(preferences.category, category)))
      .get()
    return pref?.email ?? true
  }

  private context(t: T): NoticeContext {
    return {
      publicUrl: this.settings.publicUrl,
      order: (id) => {
        const o = t.db.select().from(orders).where(eq(orders.id, id)).get()
        return o ? ({ ...o, lines: JSON.parse(o.lines) } as OrderInfo) : undefined
      },
      productName: (id) =>
        t.db.select({ name: products.name }).from(products).where(eq(products.id, id)).get()?.name,
    }
  }
}
