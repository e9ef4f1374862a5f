import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'

export type Schema = Record<string, unknown>

/** One service's database: the drizzle handle for queries, the raw handle for the platform tables. */
export interface Store<S extends Schema = Schema> {
  readonly file: string
  readonly source: string
  readonly db: BetterSQLite3Database<S>
  readonly sqlite: Database.Database
  /** Called after every transaction that staged events, so the relay publishes at once. */
  readonly onStaged: Set<() => void>
  close(): void
}

export interface OpenOptions<S extends Schema> {
  /** Path of the SQLite file (':memory:' for a throwaway database). */
  file: string
  /** The owning service: the `source` of every event it stages. */
  source: string
  schema?: S
  /** The service's drizzle-kit migrations; applied after the platform's own. */
  migrationsFolder?: string
}

const platformMigrations = join(import.meta.dir, '..', '..', 'drizzle')

/** Opens (creating if needed) a service database, tunes it for a single writer and migrates it. */
export function openStore<S extends Schema = Schema>(opts: OpenOptions<S>): Store<S> {
  if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true })
  const sqlite = new Database(opts.file)
  sqlite.pragma('journal_mode = WAL')
  // NORMAL in WAL mode: a commit survives a process crash; only a power loss may drop the last ones.
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const db = drizzle({ client: sqlite, schema: opts.schema ?? ({} as S) })
  migrate(db, { migrationsFolder: platformMigrations, migrationsTable: '__mart_platform_migrations' })
  if (opts.migrationsFolder) migrate(db, { migrationsFolder: opts.migrationsFolder })
  return {
    file: opts.file,
    source: opts.source,
    db,
    sqlite,
    onStaged: new Set(),
    close: () => sqlite.close(),
  }
}
