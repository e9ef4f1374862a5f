// The service starts on a database an earlier version made, and carries on with what it held.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from '@mart/shared'
import { tempDir } from '@mart/shared/testing'
import { cancellation, type InventoryHarness, placed, product, startInventory } from './support.ts'

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
  const old = openStore({
    file: join(tmp.dir, 'inventory.db'),
    source: 'inventory',
    migrationsFolder: migrationsUpTo(tmp.dir, '0000_inventory'),
  })
  old.sqlite.exec(`
    INSERT INTO stock_items (product_id, on_hand, reserved, low_stock_threshold, created_at, updated_at)
      VALUES ('a', 10, 3, 5, 0, 0);
    INSERT INTO orders (order_id, state, updated_at) VALUES ('o1', 'reserved', 0), ('o2', 'released', 0);
    INSERT INTO reservations (order_id, product_id, quantity, created_at) VALUES ('o1', 'a', 3, 0);`)
  old.close()

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
  expect(
    sqlite.prepare('SELECT "table" FROM pragma_foreign_key_list(\'reservations\')').all(),
  ).toContainEqual({
    table: 'order_holds',
  })
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
