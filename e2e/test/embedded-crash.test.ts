// The embedded default keeps the outbox's promise across kill -9: an event handed to the
// in-process bus but not yet consumed is delivered when the marketplace comes back.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { devTokenSigner, tempDir, waitFor } from '@mart/shared/testing'
import Database from 'better-sqlite3'

const fixture = join(import.meta.dir, 'fixtures', 'embedded.ts')

async function embedded(dataDir: string, services: string[]) {
  const child = Bun.spawn(['bun', fixture, dataDir, services.join(',')], {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const reader = child.stdout.getReader()
  let out = ''
  while (!out.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the embedded marketplace exited: ${out}`)
    out += new TextDecoder().decode(value)
  }
  const { url } = JSON.parse(out) as { url: string }
  return { child, url }
}

let tmp: ReturnType<typeof tempDir>
const children: Bun.Subprocess[] = []
beforeEach(() => {
  tmp = tempDir('mart-embedded-')
})
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL')
    await c.exited
  }
  tmp.cleanup()
})

test('a product.created handed to the bus, then kill -9: after the restart inventory has the stock item', async () => {
  const admin = await (await devTokenSigner(tmp.dir))('admin')
  const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }

  // Run 1: the catalogue alone. Its event reaches the bus, which nobody reads yet.
  const first = await embedded(tmp.dir, ['product'])
  children.push(first.child)
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
  first.child.kill('SIGKILL')
  await first.child.exited

  // Run 2: the same data, now with inventory.
  const second = await embedded(tmp.dir, ['product', 'inventory'])
  children.push(second.child)
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
