// Reading orders: one, a page of them, an order's timeline and the versions a stream missed.
// Statements are prepared once: a read is a lookup, not a query build.
import { keysetPages, mapPage, type Page, type PageRequest, type Principal, type Store } from '@mart/shared'
import { Type } from '@sinclair/typebox'
import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm'
import { maySee } from './commands.ts'
import type * as schema from './db/schema.ts'
import { orderLines, orders, orderVersions, timeline } from './db/schema.ts'
import type { OrderStatus } from './transitions.ts'
import { type LineRow, type OrderRow, type OrderView, viewOf } from './view.ts'

/** Newest first: ids are uuid v7, so the id is the creation order. */
export const orderPages = keysetPages(Type.String({ maxLength: 64 }))

export interface ListQuery extends PageRequest {
  status?: OrderStatus | undefined
  userId?: string | undefined
}

export interface TimelineEntryView {
  type: string
  source: string
  eventId: string | null
  causationId: string | null
  actorId: string | null
  at: string
  from: OrderStatus | null
  to: OrderStatus | null
  outcome: 'moved' | 'ignored'
  reason: string | null
  emitted: { type: string; id: string }[]
}

export class OrderReads {
  private readonly byId
  private readonly lines
  private readonly entries
  private readonly versions
  private readonly listQueries = new Map<string, ReturnType<OrderReads['buildList']>>()

  constructor(private readonly store: Store<typeof schema>) {
    const { db } = store
    this.byId = db
      .select()
      .from(orders)
      .where(eq(orders.id, sql.placeholder('id')))
      .prepare()
    this.lines = db
      .select()
      .from(orderLines)
      .where(eq(orderLines.orderId, sql.placeholder('id')))
      .orderBy(asc(orderLines.position))
      .prepare()
    this.entries = db
      .select()
      .from(timeline)
      .where(eq(timeline.orderId, sql.placeholder('id')))
      .orderBy(asc(timeline.seq))
      .prepare()
    this.versions = db
      .select({ version: orderVersions.version, view: orderVersions.view })
      .from(orderVersions)
      .where(
        and(
          eq(orderVersions.orderId, sql.placeholder('id')),
          gt(orderVersions.version, sql.placeholder('after')),
        ),
      )
      .orderBy(asc(orderVersions.version))
      .prepare()
  }

  /** The order as its owner or an admin sees it; undefined for anyone else. */
  row(user: Principal, id: string): OrderRow | undefined {
    const order = this.byId.get({ id })
    return order && maySee(user, order) ? order : undefined
  }

  view(order: OrderRow): OrderView {
    return viewOf(order, this.lines.all({ id: order.id }) as LineRow[])
  }

  /** A user's own orders, or (an admin) everyone's or one user's; newest first. */
  list(user: Principal, q: ListQuery): Page<OrderView> {
    const { limit, after } = orderPages.read(q)
    const userId = user.role === 'admin' ? q.userId : user.id
    const rows = this.listQuery(userId !== undefined, q.status !== undefined, after !== undefined).all({
      userId,
      status: q.status,
      after,
      limit: limit + 1,
    })
    return mapPage(
      orderPages.page(rows, limit, (r) => r.id),
      (r) => this.view(r),
    )
  }

  /** One prepared statement per combination of filters, made on first use. */
  private listQuery(byUser: boolean, byStatus: boolean, paged: boolean) {
    const shape = `${byUser}${byStatus}${paged}`
    let query = this.listQueries.get(shape)
    if (!query) {
      query = this.buildList(byUser, byStatus, paged)
      this.listQueries.set(shape, query)
    }
    return query
  }

  private buildList(byUser: boolean, byStatus: boolean, paged: boolean) {
    return this.store.db
      .select()
      .from(orders)
      .where(
        and(
          byUser ? eq(orders.userId, sql.placeholder('userId')) : undefined,
          byStatus ? eq(orders.status, sql.placeholder('status')) : undefined,
          paged ? lt(orders.id, sql.placeholder('after')) : undefined,
        ),
      )
      .orderBy(desc(orders.id))
      .limit(sql.placeholder('limit'))
      .prepare()
  }

  timeline(orderId: string): TimelineEntryView[] {
    return this.entries.all({ id: orderId }).map((e) => ({
      type: e.type,
      source: e.source,
      eventId: e.eventId,
      causationId: e.causationId,
      actorId: e.actorId,
      at: new Date(e.at).toISOString(),
      from: e.fromStatus as OrderStatus | null,
      to: e.toStatus as OrderStatus | null,
      outcome: e.outcome,
      reason: e.reason,
      emitted: JSON.parse(e.emitted) as TimelineEntryView['emitted'],
    }))
  }

  /** The order's views after `version`, oldest first: what a stream has not sent yet. */
  versionsAfter(orderId: string, version: number): { version: number; view: string }[] {
    return this.versions.all({ id: orderId, after: version })
  }
}
