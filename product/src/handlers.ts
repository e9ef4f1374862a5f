import { fromExcluded, type Handlers, onceFor } from '@mart/shared'
import { sql } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type * as schema from './db/schema.ts'
import { stock } from './db/schema.ts'
import type { PageCache } from './page-cache.ts'

const p = sql.placeholder
/** Prepared once per database: every order moves stock, and every move is a stock.adjusted. */
const statements = onceFor((db: BetterSQLite3Database<typeof schema>) => ({
  // An upsert's set() takes SQL: the row it would have inserted is `excluded`.
  stock: db
    .insert(stock)
    .values({
      productId: p('productId'),
      status: p('status'),
      available: p('available'),
      eventId: p('eventId'),
    })
    .onConflictDoUpdate({
      target: stock.productId,
      set: fromExcluded(stock, ['status', 'available', 'eventId']),
      setWhere: sql`${stock.eventId} < excluded.event_id`,
    })
    .prepare(),
}))

/**
 * What product consumes: inventory's stock.adjusted, into the stock read model each product shows.
 * The inbox already drops a redelivered event; the event-id guard also keeps an older event (a
 * dead letter redriven late, say) from overwriting a newer one. Event ids are uuid v7, so they
 * order by time as strings. Pages show stock: the kept ones are forgotten once the change commits.
 */
export const handlersFor = (pages: PageCache): Handlers<typeof schema> => ({
  'stock.adjusted': (event, t) => {
    const { productId, status, available } = event.data
    statements(t.db).stock.run({ productId, status, available, eventId: event.id })
    pages.forgetOnCommit(t)
  },
})
