import { join } from 'node:path'
import Database from 'better-sqlite3'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { makePrivateDatabase } from '../private-files.ts'

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
  /**
   * Checkpoint the WAL from a worker thread every this many ms instead of on the committing
   * thread: a checkpoint fsyncs, and on the event loop that is a pause of milliseconds.
   */
  backgroundCheckpointMs?: number
}

// Safety net when checkpoints run in the background: the writer checkpoints by itself once the WAL
// holds this many pages (about 40 MB), which steady commits reach (see checkpoint-worker.ts).
const FALLBACK_AUTOCHECKPOINT = 10_000
// From this many pages of WAL the worker checkpoints every few ms, so that the writer's fallback
// finds almost every page already copied and synced.
const CATCH_UP_ABOVE = FALLBACK_AUTOCHECKPOINT / 2

// One checkpoint thread for the whole process, started on first use and never holding it open.
let worker: Worker | null = null
function checkpointer(): Worker {
  if (!worker) {
    worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url))
    worker.unref()
  }
  return worker
}

/**
 * Checkpoints the WAL of `file` from the process's checkpoint thread every `intervalMs`, and lets
 * the connection `sqlite` checkpoint by itself only as a fallback. Returns the way to stop.
 */
export function checkpointInBackground(sqlite: Database.Database, file: string, intervalMs: number) {
  sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT}`)
  checkpointer().postMessage({
    op: 'add',
    file,
    intervalMs,
    catchUpAbove: CATCH_UP_ABOVE,
    fallback: FALLBACK_AUTOCHECKPOINT,
  })
  return () => checkpointer().postMessage({ op: 'remove', file })
}

/**
 * `make(key)` once per key, on first use, kept as long as the key lives: statements prepared once
 * per database handle, so that a statement on a hot path is a lookup, not a parse. Services key
 * by the drizzle handle a transaction carries (`onceFor((db: Db) => ({ byId: db.select()...prepare() }))`).
 */
export function onceFor<K extends object, T>(make: (key: K) => T): (key: K) => T {
  const made = new WeakMap<K, T>()
  return (key) => {
    let value = made.get(key)
    if (value === undefined) {
      value = make(key)
      made.set(key, value)
    }
    return value
  }
}

/**
 * Statements prepared once per store, on first use: `const statementsOf = perStore((store) => ({
 * insert: store.sqlite.prepare(...) }))`.
 */
export const perStore = <T>(prepare: (store: Store) => T): ((store: Store) => T) => onceFor(prepare)

const platformMigrations = join(import.meta.dir, '..', '..', 'drizzle')

/**
 * Opens (creating if needed) a service database, readable by this user only, tunes it for a single
 * writer and migrates it.
 */
export function openStore<S extends Schema = Schema>(opts: OpenOptions<S>): Store<S> {
  if (opts.file !== ':memory:') makePrivateDatabase(opts.file)
  const sqlite = new Database(opts.file)
  sqlite.pragma('journal_mode = WAL')
  // NORMAL in WAL mode: a commit survives a process crash; only a power loss may drop the last ones.
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const db = drizzle({ client: sqlite, schema: opts.schema ?? ({} as S) })
  migrate(db, { migrationsFolder: platformMigrations, migrationsTable: '__mart_platform_migrations' })
  if (opts.migrationsFolder) migrate(db, { migrationsFolder: opts.migrationsFolder })
  const stopCheckpoints =
    opts.backgroundCheckpointMs && opts.file !== ':memory:'
      ? checkpointInBackground(sqlite, opts.file, opts.backgroundCheckpointMs)
      : undefined
  return {
    file: opts.file,
    source: opts.source,
    db,
    sqlite,
    onStaged: new Set(),
    close: () => {
      stopCheckpoints?.()
      sqlite.close()
    },
  }
}
