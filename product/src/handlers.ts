import type { Handlers } from '@mart/shared'
import { sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { stock } from './db/schema.ts'
import type { PageCache } from './page-cache.ts'

/**
 * What product consumes: inventory's stock.adjusted, into the stock read model each product shows.
 * The inbox already drops a redelivered event; the event-id guard also keeps an older event (a
 * dead letter redriven late, say) from overwriting a newer one. Event ids are uuid v7, so they
 * order by time as strings. Pages show stock: the kept ones are forgotten once the change commits.
 */
export const handlersFor = (pages: PageCache): Handlers<typeof schema> => ({
  'stock.adjusted': (event, t) => {
    const { productId, status, available } = event.data
    t.db
      .insert(stock)
      .values({ productId, status, available, eventId: event.id })
      .onConflictDoUpdate({
        target: stock.productId,
        set: { status, available, eventId: event.id },
        setWhere: sql`${stock.eventId} < ${event.id}`,
      })
      .run()
    pages.forgetOnCommit(t)
  },
})
