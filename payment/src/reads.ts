// Reading payments: one, and a page of them (a user's own, or an admin's view of all).
import { keysetPages, mapPage, type Page, type PageRequest, type Principal, type Store } from '@mart/shared'
import { Type } from '@sinclair/typebox'
import { and, desc, eq, lt } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { payments } from './db/schema.ts'
import type { PaymentRow } from './payments.ts'
import type { PaymentStatus } from './transitions.ts'
import { type PaymentView, viewOf } from './view.ts'

export const paymentPages = keysetPages(Type.String({ maxLength: 64 }))

export const maySee = (user: Principal, p: { userId: string }) =>
  user.role === 'admin' || p.userId === user.id

export class PaymentReads {
  constructor(private readonly store: Store<typeof schema>) {}

  /** The payment as its owner or an admin sees it; undefined for anyone else. */
  one(user: Principal, id: string): PaymentRow | undefined {
    const p = this.store.db.select().from(payments).where(eq(payments.id, id)).get()
    return p && maySee(user, p) ? p : undefined
  }

  bySession(sessionId: string): PaymentRow | undefined {
    return this.store.db.select().from(payments).where(eq(payments.stripeSessionId, sessionId)).get()
  }

  /** Newest first: a user's own, an admin's all; by order and status when asked. */
  list(
    user: Principal,
    q: PageRequest & { orderId?: string | undefined; status?: PaymentStatus | undefined },
  ): Page<PaymentView> {
    const { limit, after } = paymentPages.read(q)
    const rows = this.store.db
      .select()
      .from(payments)
      .where(
        and(
          user.role === 'admin' ? undefined : eq(payments.userId, user.id),
          q.orderId === undefined ? undefined : eq(payments.orderId, q.orderId),
          q.status === undefined ? undefined : eq(payments.status, q.status),
          after === undefined ? undefined : lt(payments.id, after),
        ),
      )
      .orderBy(desc(payments.id))
      .limit(limit + 1)
      .all()
    return mapPage(
      paymentPages.page(rows, limit, (r) => r.id),
      viewOf,
    )
  }
}
