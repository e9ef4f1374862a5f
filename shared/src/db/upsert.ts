// An upsert's `set`, from the row it would have inserted: SQLite calls that row `excluded`. The read
// models keep their statements prepared, and a prepared upsert cannot pass the values twice.
import { getTableColumns, type SQL, sql } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'

/** `{ key: excluded.<its column> }` for each of `keys`: what onConflictDoUpdate's set() takes. */
export function fromExcluded<T extends SQLiteTable, K extends keyof T['_']['columns'] & string>(
  table: T,
  keys: readonly K[],
): Record<K, SQL> {
  const columns = getTableColumns(table) as Record<string, { name: string }>
  const set = {} as Record<K, SQL>
  for (const key of keys) set[key] = sql`excluded.${sql.identifier((columns[key] as { name: string }).name)}`
  return set
}
