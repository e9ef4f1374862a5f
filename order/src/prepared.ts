// Statements on the paths every order takes (placing, the saga's moves, Idempotency-Key), prepared
// once per database. Built with drizzle's query builder on each call, a statement is assembled as
// SQL and compiled by SQLite again every time: that cost more than the write it made.
import type { Db } from './view.ts'

/** `prepare(db)` the first time a database asks, its statements after that. */
export function perDb<T>(prepare: (db: Db) => T): (db: Db) => T {
  const prepared = new WeakMap<Db, T>()
  return (db) => {
    let statements = prepared.get(db)
    if (!statements) {
      statements = prepare(db)
      prepared.set(db, statements)
    }
    return statements
  }
}
