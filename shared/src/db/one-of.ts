import { type SQL, sql } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'

/**
 * The condition of a CHECK constraint that `column` holds one of `values` (an enum list from
 * events/enums.ts or the service's own), spelled out as literals: drizzle-kit writes it into the
 * migration as it is, and a list that changes changes the migration.
 */
export const isOneOf = (column: SQLiteColumn, values: readonly string[]): SQL =>
  sql`${column} IN (${sql.raw(values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', '))})`
