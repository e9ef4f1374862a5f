// An admin's announcement: in-app to one user, a role or everyone, and by email if asked (each
// person's preference for `account` notices still counts).
import { notFound, type Store, tx } from '@mart/shared'
import { and, eq, type SQL } from 'drizzle-orm'
import type { NotificationChanges } from './changes.ts'
import type * as schema from './db/schema.ts'
import { deliveries, notifications, preferences, recipients } from './db/schema.ts'
import { escapeHtml } from './format.ts'
import { messageIdOf, SEND_JOB } from './notify.ts'

export interface Announcement {
  userId?: string | undefined
  role?: 'user' | 'admin' | 'all' | undefined
  title: string
  body: string
  email?: boolean | undefined
}

export function announce(
  store: Store<typeof schema>,
  changes: NotificationChanges,
  a: Announcement,
): { notified: number; emailed: number } {
  const id = Bun.randomUUIDv7()
  return tx(store, (t) => {
    const who: SQL | undefined =
      a.userId !== undefined
        ? eq(recipients.id, a.userId)
        : a.role && a.role !== 'all'
          ? eq(recipients.role, a.role)
          : undefined
    const people = t.db
      .select()
      .from(recipients)
      .where(and(eq(recipients.active, true), who))
      .all()
    if (a.userId !== undefined && people.length === 0) throw notFound('no such user')
    let emailed = 0
    const now = Date.now()
    for (const p of people) {
      t.db
        .insert(notifications)
        .values({
          id: Bun.randomUUIDv7(),
          userId: p.id,
          category: 'account',
          notice: 'announcement',
          title: a.title,
          body: a.body,
          subject: null,
          eventId: id,
          readAt: null,
          createdAt: now,
        })
        .run()
      t.afterCommit(() => changes.changed(p.id))
      if (!a.email) continue
      const pref = t.db
        .select({ email: preferences.email })
        .from(preferences)
        .where(and(eq(preferences.userId, p.id), eq(preferences.category, 'account')))
        .get()
      if (pref && !pref.email) continue
      const deliveryId = Bun.randomUUIDv7()
      t.db
        .insert(deliveries)
        .values({
          id: deliveryId,
          eventId: id,
          notice: 'announcement',
          address: p.email,
          userId: p.id,
          messageId: messageIdOf(id, 'announcement', p.email),
          subject: a.title,
          text: `${a.body}\n`,
          html: `<p>${escapeHtml(a.body).replaceAll('\n', '<br>')}</p>`,
          sentAt: null,
          response: null,
          createdAt: now,
        })
        .run()
      t.schedule(SEND_JOB, { key: deliveryId })
      emailed++
    }
    return { notified: people.length, emailed }
  })
}
