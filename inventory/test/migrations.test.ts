// The service starts on a database an earlier version made, and carries on with what it held.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from '@mart/shared'
import { tempDir } from '@mart/shared/testing'
import { cancellation, type InventoryHarness, paid, placed, product, startInventory } from './support.ts'

const migrations = join(import.meta.dir, '..', 'src', 'db', 'migrations')

/** The migrations as they were up to and including `tag`, in a folder of their own. */
function migrationsUpTo(dir: string, tag: string): string {
  const folder = join(dir, 'migrations-then')
  cpSync(migrations, folder, { recursive: true })
  const journalFile = join(folder, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number; tag: string }[] }
  const last = journal.entries.findIndex((e) => e.tag === tag)
  expect(last).toBeGreaterThanOrEqual(0)
  journal.entries = journal.entries.slice(0, last + 1)
  writeFileSync(journalFile, JSON.stringify(journal))
  return folder
}

/** The service's database as the migrations up to `tag` made it, with `rows` written by that schema. */
function databaseMadeBy(tag: string, rows: string) {
  const old = openStore({
    file: join(tmp.dir, 'inventory.db'),
    source: 'inventory',
    migrationsFolder: migrationsUpTo(tmp.dir, tag),
  })
  old.sqlite.exec(rows)
  old.close()
}

/** Every foreign key of `table` that points at `parent`. */
const referencesTo = (table: string, parent: string) =>
  (h as InventoryHarness).svc.store.sqlite
    .prepare(`SELECT "from" FROM pragma_foreign_key_list('${table}') WHERE "table" = ?`)
    .all(parent)

let tmp: ReturnType<typeof tempDir>
let h: InventoryHarness | undefined
beforeEach(() => {
  tmp = tempDir('mart-inventory-migrations-')
})
afterEach(async () => {
  await h?.stop()
  h = undefined
  tmp.cleanup()
})

test('0001: the holds of a database made by 0000 (table `orders`) are in `order_holds`, and still act', async () => {
  // What the first schema wrote: a product with 3 of 10 held by o1, o2 closed before it was seen.
  databaseMadeBy(
    '0000_inventory',
    `INSERT INTO stock_items (product_id, on_hand, reserved, low_stock_threshold, created_at, updated_at)
      VALUES ('a', 10, 3, 5, 0, 0);
    INSERT INTO orders (order_id, state, updated_at) VALUES ('o1', 'reserved', 0), ('o2', 'released', 0);
    INSERT INTO reservations (order_id, product_id, quantity, created_at) VALUES ('o1', 'a', 3, 0);`,
  )

  h = await startInventory({ dir: tmp.dir })
  const sqlite = h.svc.store.sqlite
  const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
  expect(tables).toContainEqual({ name: 'order_holds' })
  expect(tables).not.toContainEqual({ name: 'orders' })
  expect(sqlite.prepare('SELECT order_id, state FROM order_holds ORDER BY order_id').all()).toEqual([
    { order_id: 'o1', state: 'reserved' },
    { order_id: 'o2', state: 'released' },
  ])
  // Reservations now belong to order_holds, and nothing points nowhere.
  expect(referencesTo('reservations', 'order_holds')).toEqual([{ from: 'order_id' }])
  expect(sqlite.prepare('PRAGMA foreign_key_check').all()).toEqual([])
  expect(() => sqlite.exec("UPDATE order_holds SET state = 'lost' WHERE order_id = 'o1'")).toThrow(
    /CHECK constraint failed: order_holds_state/,
  )

  // The hold is live: cancelling o1 gives its 3 back; o2's tombstone still keeps its late order.placed out.
  await h.apply(
    ['order.cancelled', cancellation('o1', 'changed my mind'), 'o1'],
    ['order.placed', placed('o2', [['a', 1]]), 'o2'],
  )
  expect(h.item('a')).toMatchObject({ onHand: 10, reserved: 0 })
  expect(h.outbox().map((e) => e.type)).toEqual(['stock.released', 'stock.adjusted'])
  // And new holds go to the new table.
  await h.apply(['product.created', product('b', 2), 'b'], ['order.placed', placed('o3', [['b', 2]]), 'o3'])
  expect(sqlite.prepare("SELECT state FROM order_holds WHERE order_id = 'o3'").get()).toEqual({
    state: 'reserved',
  })
})

test('0002: a database made by 0001 gains the shipped and restocked holds; its committed holds, lines unknown, are shipped', async () => {
  // o1 holds 3 of a; o2 was released; o3 was paid when committed was final; o4 was paid before its order.placed.
  databaseMadeBy(
    '0001_order_holds',
    `INSERT INTO stock_items (product_id, on_hand, reserved, low_stock_threshold, created_at, updated_at)
      VALUES ('a', 10, 3, 5, 0, 0);
    INSERT INTO order_holds (order_id, state, updated_at)
      VALUES ('o1', 'reserved', 0), ('o2', 'released', 0), ('o3', 'committed', 0), ('o4', 'paid', 0);
    INSERT INTO reservations (order_id, product_id, quantity, created_at) VALUES ('o1', 'a', 3, 0);`,
  )

  h = await startInventory({ dir: tmp.dir })
  const sqlite = h.svc.store.sqlite
  expect(sqlite.prepare('SELECT order_id, state FROM order_holds ORDER BY order_id').all()).toEqual([
    { order_id: 'o1', state: 'reserved' },
    { order_id: 'o2', state: 'released' },
    { order_id: 'o3', state: 'shipped' },
    { order_id: 'o4', state: 'paid' },
  ])
  expect(h.reservationsOf('o1')).toEqual([{ productId: 'a', quantity: 3 }])
  // Nothing is left of the rebuild, and every reference points at order_holds.
  const schema = sqlite
    .prepare<[], { name: string; sql: string }>('SELECT name, sql FROM sqlite_master')
    .all()
  expect(schema.filter((s) => `${s.name} ${s.sql}`.includes('__new'))).toEqual([])
  expect(referencesTo('reservations', 'order_holds')).toEqual([{ from: 'order_id' }])
  expect(referencesTo('committed_lines', 'order_holds')).toEqual([{ from: 'order_id' }])
  expect(sqlite.prepare('PRAGMA foreign_key_check').all()).toEqual([])
  expect(() => sqlite.exec("UPDATE order_holds SET state = 'lost' WHERE order_id = 'o2'")).toThrow(
    /CHECK constraint failed: order_holds_state/,
  )

  // The holds act on the new table: o1 paid then cancelled comes back; o3, shipped, gives nothing
  // back; o4's late order.placed reserves and ships at once.
  await h.apply(
    ['payment.succeeded', paid('o1'), 'o1'],
    ['order.cancelled', cancellation('o1', 'damaged'), 'o1'],
    ['order.cancelled', cancellation('o3', 'too late'), 'o3'],
    ['order.placed', placed('o4', [['a', 2]]), 'o4'],
  )
  expect(
    sqlite.prepare("SELECT state FROM order_holds WHERE order_id IN ('o1', 'o4') ORDER BY order_id").all(),
  ).toEqual([{ state: 'restocked' }, { state: 'committed' }])
  expect(h.item('a')).toMatchObject({ onHand: 8, reserved: 0 })
  expect(h.outbox().map((e) => e.type)).toEqual([
    'stock.committed',
    'stock.adjusted',
    'stock.released',
    'stock.adjusted',
    'stock.reserved',
    'stock.committed',
    'stock.adjusted',
  ])
})
