// The embedded default keeps the outbox's promise across kill -9: an event handed to the
// in-process bus but not yet consumed is delivered when the marketplace comes back.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { devTokenSigner, tempDir, waitFor } from '@mart/shared/testing'
import Database from 'better-sqlite3'
import { kill9, killAll, spawnFixture } from './processes.ts'

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir('mart-embedded-')
})
afterEach(async () => {
  await killAll()
  tmp.cleanup()
})

/** The embedded marketplace with `services`, on `tmp.dir`. */
const embedded = (services: string[]) => spawnFixture('embedded.ts', [tmp.dir, services.join(',')])

test('a product.created handed to the bus, then kill -9: after the restart inventory has the stock item', async () => {
  const admin = await (await devTokenSigner(tmp.dir))('admin')
  const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }

  // Run 1: the catalogue alone. Its event reaches the bus, which nobody reads yet.
  const first = await embedded(['product'])
  const created = await fetch(`${first.url}/api/products`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      name: 'Lamp',
      description: 'A lamp',
      price: { amount: 2500, currency: 'EUR' },
      initialStock: 7,
    }),
  })
  expect(created.status).toBe(201)
  const { id } = (await created.json()) as { id: string }
  // The outbox has handed the event over: from here on only the bus can still deliver it.
  const outbox = new Database(join(tmp.dir, 'product.db'), { readonly: true })
  await waitFor(
    () =>
      (outbox.prepare('SELECT count(*) AS n FROM mart_outbox WHERE sent_at IS NULL').get() as { n: number })
        .n === 0,
    'the relay to hand product.created to the bus',
  )
  outbox.close()
  await kill9(first)

  // Run 2: the same data, now with inventory.
  const second = await embedded(['product', 'inventory'])
  const item = await waitFor(async () => {
    const r = await fetch(`${second.url}/api/inventory/${id}`, { headers: auth })
    return r.status === 200 ? ((await r.json()) as { onHand: number; reserved: number }) : null
  }, 'inventory to learn of the product')
  expect(item).toMatchObject({ onHand: 7, reserved: 0 })
  // And what inventory announced reaches the catalogue.
  await waitFor(async () => {
    const r = await fetch(`${second.url}/api/products/${id}`)
    const p = (await r.json()) as { stock: { available: number; status: string } }
    return p.stock.available === 7 && p.stock.status === 'in_stock'
  }, "the catalogue to show inventory's numbers")
})
