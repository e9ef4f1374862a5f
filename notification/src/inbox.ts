// A person's in-app notifications: read, marked read, deleted; and the email preferences.
import {
  forbidden,
  keysetPages,
  mapPage,
  notFound,
  type Page,
  type PageRequest,
  type Principal,
  type Store,
  tx,
} from '@mart/shared'
import { Type } from '@sinclair/typebox'
import { and, asc, count, desc, eq, gt, isNull, lt, type SQL } from 'drizzle-orm'
import { adminCategories, type Category, categories } from './categories.ts'
import type * as schema from './db/schema.ts'
import { notifications, preferences } from './db/schema.ts'

export const NO_NOTIFICATION = 'no such notification'
export const notificationPages = keysetPages(Type.String({ maxLength: 64 }))

type Row = typeof notifications.$inferSelect
export const viewOf = (n: Row) => ({
  id: n.id,
  userId: n.userId,
  category: n.category,
  notice: n.notice,
  title: n.title,
  body: n.body,
  subject: n.subject,
  read: n.readAt !== null,
  readAt: n.readAt === null ? null : new Date(n.readAt).toISOString(),
  createdAt: new Date(n.createdAt).toISOString(),
})
export type NotificationView = ReturnType<typeof viewOf>

export interface ListQuery extends PageRequest {
  unread?: boolean | undefined
  userId?: string | undefined
  all?: boolean | undefined
}

export class Inbox {
  constructor(private readonly store: Store<typeof schema>) {}

  /** Own notifications, newest first; an admin may ask for one user's (`userId`) or everyone's (`all`). */
  list(user: Principal, q: ListQuery): Page<NotificationView> {
    if (user.role !== 'admin' && (q.all || (q.userId && q.userId !== user.id))) {
      throw forbidden("only an admin reads other people's notifications")
    }
    const { limit, after } = notificationPages.read(q)
    const owner = q.all ? undefined : (q.userId ?? user.id)
    const where: (SQL | undefined)[] = [
      owner === undefined ? undefined : eq(notifications.userId, owner),
      q.unread === true ? isNull(notifications.readAt) : undefined,
      after === undefined ? undefined : lt(notifications.id, after),
    ]
    const rows = this.store.db
      .select()
      .from(notifications)
      .where(and(...where))
      .orderBy(desc(notifications.id))
      .limit(limit + 1)
      .all()
    return mapPage(
      notificationPages.page(rows, limit, (r) => r.id),
      viewOf,
    )
  }

  /** The user's notifications after `id` (any id: they are uuid v7, ordered as written), oldest first. */
  after(userId: string, id: string, limit: number): Row[] {
    return this.store.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.userId, userId), gt(notifications.id, id)))
      .orderBy(asc(notifications.id))
      .limit(limit)
      .all()
  }

  /** The id of the user's newest notification, if they have any. */
  newestId(userId: string): string | undefined {
    return this.store.db
      .select({ id: notifications.id })
      .from(notifications)
      .where(eq(notifications.userId, userId))
      .orderBy(desc(notifications.id))
      .limit(1)
      .get()?.id
  }

  unreadCount(user: Principal): number {
    return (
      this.store.db
        .select({ n: count() })
        .from(notifications)
        .where(and(eq(notifications.userId, user.id), isNull(notifications.readAt)))
        .get()?.n ?? 0
    )
  }

  /** Own, or any for an admin; anyone else is told it does not exist. */
  one(user: Principal, id: string): Row {
    const n = this.store.db.select().from(notifications).where(eq(notifications.id, id)).get()
    if (!n || (user.role !== 'admin' && n.userId !== user.id)) throw notFound(NO_NOTIFICATION)
    return n
  }

  markRead(user: Principal, id: string): NotificationView {
    return tx(this.store, (t) => {
      const n = this.one(user, id)
      if (n.readAt !== null) return viewOf(n)
      const read = t.db
        .update(notifications)
        .set({ readAt: Date.now() })
        .where(eq(notifications.id, id))
        .returning()
        .get()
      return viewOf(read as Row)
    })
  }

  markAllRead(user: Principal): number {
    return tx(
      this.store,
      (t) =>
        t.db
          .update(notifications)
          .set({ readAt: Date.now() })
          .where(and(eq(notifications.userId, user.id), isNull(notifications.readAt)))
          .run().changes,
    )
  }

  remove(user: Principal, id: string): void {
    tx(this.store, (t) => {
      this.one(user, id)
      t.db.delete(notifications).where(eq(notifications.id, id)).run()
    })
  }

  /** Email on or off per category (in-app is always on); the admins' categories only for admins. */
  preferences(user: Principal): Record<string, { email: boolean; inApp: true }> {
    const rows = this.store.db.select().from(preferences).where(eq(preferences.userId, user.id)).all()
    const set = new Map(rows.map((r) => [r.category, r.email]))
    return Object.fromEntries(
      this.categoriesOf(user).map((c) => [c, { email: set.get(c) ?? true, inApp: true as const }]),
    )
  }

  setPreferences(user: Principal, patch: Partial<Record<Category, { email?: boolean | undefined }>>) {
    const allowed = this.categoriesOf(user)
    for (const c of Object.keys(patch) as Category[]) {
      if (!allowed.includes(c)) throw forbidden(`${c} notices are for admins`)
    }
    tx(this.store, (t) => {
      for (const [category, p] of Object.entries(patch) as [Category, { email?: boolean }][]) {
        if (p.email === undefined) continue
        t.db
          .insert(preferences)
          .values({ userId: user.id, category, email: p.email })
          .onConflictDoUpdate({ target: [preferences.userId, preferences.category], set: { email: p.email } })
          .run()
      }
    })
    return this.preferences(user)
  }

  private categoriesOf(user: Principal): Category[] {
    return categories.filter((c) => user.role === 'admin' || !adminCategories.includes(c))
  }
}
