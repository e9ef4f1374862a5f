// The order service's own figures on GET /metrics: how many orders are in each state.
import { type Registry, type Store, scrapedGaugeBy } from '@mart/shared'
import type * as schema from './db/schema.ts'
import { orderStatuses } from './transitions.ts'

/** Adds `mart_orders{status}` to the registry, counted from the database on each scrape. */
export function orderMetrics(store: Store<typeof schema>) {
  // The orders_status index answers the grouping without reading the rows.
  const byStatus = store.sqlite.prepare<[], { status: string; n: number }>(
    'SELECT status, count(*) AS n FROM orders GROUP BY status',
  )
  return (registry: Registry) => {
    scrapedGaugeBy(registry, 'mart_orders', 'Orders by state.', 'status', () => {
      // Every state is present, at 0 when no order is in it: a series does not vanish when it empties.
      const counts: Record<string, number> = Object.fromEntries(orderStatuses.map((s) => [s, 0]))
      for (const row of byStatus.all()) counts[row.status] = row.n
      return counts
    })
  }
}
