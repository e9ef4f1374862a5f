// Preloaded into a process (`bun --preload scripts/bench/count-commits.ts ...`; the load generator
// does it with LOAD_COMMITS=FILE): counts the SQLite commits of each database file, and writes them
// as JSON to COUNT_COMMITS_OUT when the process exits. A commit is an outermost better-sqlite3
// transaction (`tx`, the journal's appends) or a write statement run outside one (autocommit: the
// relay's marks, the job runner's leases). Every statement goes through a wrapper: CPU figures
// taken with it are not the product's.
import { writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import Database from 'better-sqlite3'

type Counts = Record<string, { transactions: number; autocommits: number }>
const counts: Counts = {}
const of = (db: Database.Database) => {
  const name = basename(db.name)
  counts[name] ??= { transactions: 0, autocommits: 0 }
  return counts[name]
}

// biome-ignore lint/suspicious/noExplicitAny: patching the library's prototypes
const proto = Database.prototype as any
const transaction = proto.transaction
proto.transaction = function (this: Database.Database, fn: (...args: unknown[]) => unknown) {
  const wrapped = transaction.call(this, fn)
  const counting =
    (f: (...args: unknown[]) => unknown) =>
    (...args: unknown[]) => {
      if (!this.inTransaction) of(this).transactions++
      return f(...args)
    }
  const outer = counting(wrapped)
  for (const variant of ['deferred', 'immediate', 'exclusive']) {
    Object.defineProperty(outer, variant, { value: counting(wrapped[variant]) })
  }
  return outer
}

const CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i
const prepare = proto.prepare
let patched = false
proto.prepare = function (this: Database.Database, ...args: unknown[]) {
  const statement = prepare.apply(this, args)
  if (!patched) {
    patched = true
    const statementProto = Object.getPrototypeOf(statement)
    for (const method of ['run', 'get', 'all']) {
      const original = statementProto[method]
      statementProto[method] = function (this: Database.Statement, ...params: unknown[]) {
        if (!this.reader && !this.database.inTransaction && !CONTROL.test(this.source))
          of(this.database).autocommits++
        return original.apply(this, params)
      }
    }
  }
  return statement
}

process.on('exit', () => {
  if (process.env.COUNT_COMMITS_OUT)
    writeFileSync(process.env.COUNT_COMMITS_OUT, JSON.stringify(counts, null, 2))
})
