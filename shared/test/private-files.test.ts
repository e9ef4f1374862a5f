// Database files hold password and token hashes: only the user running Mart may read them.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { ensureDevKeys, MemoryBus, openStore } from '../src/index.ts'
import { tempDir } from '../src/testing.ts'

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8)
/** The mode of every file named, `-` for one that does not exist. */
const modes = (files: string[]) => Object.fromEntries(files.map((f) => [f, existsSync(f) ? modeOf(f) : '-']))
const sqliteFiles = (file: string) => [file, `${file}-wal`, `${file}-shm`]

/** A WAL database as a process with the usual umask leaves it: every file 0644. */
function looseDatabase(file: string) {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE loose (v TEXT); INSERT INTO loose VALUES (1)')
  for (const f of sqliteFiles(file)) chmodSync(f, 0o644)
  return db
}

describe('private files', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  test('a service database, its WAL and shared memory are created 0600, in a DATA_DIR created 0700', () => {
    const dataDir = join(tmp.dir, 'var', 'data')
    const file = join(dataDir, 'user.db')
    const store = openStore({ file, source: 'user' })
    store.sqlite.exec('CREATE TABLE secrets (hash TEXT); INSERT INTO secrets VALUES (1)')
    expect(modes(sqliteFiles(file))).toEqual(Object.fromEntries(sqliteFiles(file).map((f) => [f, '600'])))
    expect([modeOf(join(tmp.dir, 'var')), modeOf(dataDir)]).toEqual(['700', '700'])
    store.close()
  })

  test('an existing database readable by others is tightened to 0600 when it is opened', () => {
    const file = join(tmp.dir, 'user.db')
    const other = looseDatabase(file)
    const store = openStore({ file, source: 'user' })
    expect(modes(sqliteFiles(file))).toEqual(Object.fromEntries(sqliteFiles(file).map((f) => [f, '600'])))
    store.close()
    other.close()
  })

  test('an existing DATA_DIR is the operator’s: its mode is left as it is', () => {
    const dataDir = join(tmp.dir, 'shared')
    mkdirSync(dataDir, { mode: 0o755 })
    chmodSync(dataDir, 0o755)
    openStore({ file: join(dataDir, 'product.db'), source: 'product' }).close()
    expect(modeOf(dataDir)).toBe('755')
    expect(modeOf(join(dataDir, 'product.db'))).toBe('600')
  })

  test('the bus journal, its WAL, shared memory and lock file are created 0600', async () => {
    const dataDir = join(tmp.dir, 'data')
    const file = join(dataDir, 'bus.db')
    const bus = new MemoryBus({ file })
    await bus.ensureTopics(['product.events'])
    await bus.publish([{ topic: 'product.events', key: 'k', value: 'v', headers: {} }])
    const files = [...sqliteFiles(file), `${file}.lock`]
    expect(modes(files)).toEqual(Object.fromEntries(files.map((f) => [f, '600'])))
    expect(modeOf(dataDir)).toBe('700')
    await bus.close()
  })

  test('an existing bus journal readable by others is tightened to 0600 when it is opened', async () => {
    const file = join(tmp.dir, 'bus.db')
    looseDatabase(file).close()
    chmodSync(file, 0o644)
    const bus = new MemoryBus({ file })
    await bus.ensureTopics(['product.events'])
    expect(modes(sqliteFiles(file))).toEqual(Object.fromEntries(sqliteFiles(file).map((f) => [f, '600'])))
    await bus.close()
  })

  test('development keys: the directory is 0700 and both key files 0600, in a DATA_DIR created 0700', async () => {
    const dataDir = join(tmp.dir, 'data')
    await ensureDevKeys(dataDir)
    const keys = join(dataDir, 'keys')
    expect(modes([dataDir, keys])).toEqual({ [dataDir]: '700', [keys]: '700' })
    expect(modes([join(keys, 'jwt-private.jwk.json'), join(keys, 'jwt-public.jwks.json')])).toEqual({
      [join(keys, 'jwt-private.jwk.json')]: '600',
      [join(keys, 'jwt-public.jwks.json')]: '600',
    })
  })
})
