import { afterEach, beforeEach, expect, test } from 'bun:test'
import { IDEMPOTENCY_WINDOW_MS } from '@mart/shared'
import { type OrderHarness, startOrder } from './support.ts'

let h: OrderHarness
beforeEach(async () => {
  h = await startOrder()
  await h.product('p1', 1999)
})
afterEach(() => h.stop())

const KEY = { 'idempotency-key': 'checkout-7f3a' }
const placedEvents = () => h.outbox().filter((e) => e.type === 'order.placed')

test('the same key and body answers the original order again, marked replayed, and creates nothing', async () => {
  const alice = await h.person()
  const first = await h.place(alice, h.lines(['p1', 2]), KEY)
  const again = await h.place(alice, h.lines(['p1', 2]), KEY)
  expect(first.status).toBe(202)
  expect(first.headers.get('idempotent-replayed')).toBeNull()
  expect(again.status).toBe(202)
  expect(again.text).toBe(first.text)
  expect(again.headers.get('idempotent-replayed')).toBe('true')
  expect(again.headers.get('location')).toBe(first.headers.get('location'))
  expect(h.count('orders')).toBe(1)
  expect(placedEvents()).toHaveLength(1)
})

test('the original answer is replayed even after the order moved on', async () => {
  const alice = await h.person()
  const first = await h.place(alice, h.lines(['p1', 1]), KEY)
  await h.call('POST', `/api/orders/${first.body.id}/cancel`, { token: alice.token })
  const again = await h.place(alice, h.lines(['p1', 1]), KEY)
  expect(again.body.status).toBe('pending')
  expect(again.text).toBe(first.text)
})

test('the same key with another body is a 422 and creates nothing', async () => {
  const alice = await h.person()
  await h.place(alice, h.lines(['p1', 1]), KEY)
  const other = await h.place(alice, h.lines(['p1', 3]), KEY)
  expect(other.status).toBe(422)
  expect(other.body.errors).toEqual([
    { path: '/headers/idempotency-key', message: 'was already used for a different request' },
  ])
  expect(h.count('orders')).toBe(1)
})

test('the same body spelled with its keys in another order is the same request', async () => {
  const alice = await h.person()
  await h.place(alice, { lines: [{ productId: 'p1', quantity: 1 }], note: 'x' }, KEY)
  const again = await h.place(alice, { note: 'x', lines: [{ quantity: 1, productId: 'p1' }] }, KEY)
  expect(again.headers.get('idempotent-replayed')).toBe('true')
})

test('20 concurrent requests with one key create one order', async () => {
  const alice = await h.person()
  const answers = await Promise.all(Array.from({ length: 20 }, () => h.place(alice, h.lines(['p1', 1]), KEY)))
  expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]))
  expect(new Set(answers.map((a) => a.body.id)).size).toBe(1)
  expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(19)
  expect(h.count('orders')).toBe(1)
  expect(placedEvents()).toHaveLength(1)
})

test("a key is the user's own: another user's same key places another order", async () => {
  const [alice, bob] = [await h.person(), await h.person()]
  const a = await h.place(alice, h.lines(['p1', 1]), KEY)
  const b = await h.place(bob, h.lines(['p1', 1]), KEY)
  expect(b.headers.get('idempotent-replayed')).toBeNull()
  expect(b.body.id).not.toBe(a.body.id)
})

test('a refused request does not use up its key', async () => {
  const alice = await h.person()
  expect((await h.place(alice, h.lines(['nope', 1]), KEY)).status).toBe(422)
  await h.product('nope', 5)
  const ok = await h.place(alice, h.lines(['nope', 1]), KEY)
  expect(ok.status).toBe(202)
  expect(ok.headers.get('idempotent-replayed')).toBeNull()
})

test('a key is 1 to 255 visible ASCII characters', async () => {
  const alice = await h.person()
  for (const key of ['', 'a b', 'é', 'x'.repeat(256)]) {
    const res = await h.place(alice, h.lines(['p1', 1]), { 'idempotency-key': key })
    expect([key, res.status]).toEqual([key, 422])
  }
  expect((await h.place(alice, h.lines(['p1', 1]), { 'idempotency-key': '~'.repeat(255) })).status).toBe(202)
})

// Purging keys past the window is the platform's (shared/test/idempotency.test.ts).
test('after 24 hours a key is free again', async () => {
  const alice = await h.person()
  const first = await h.place(alice, h.lines(['p1', 1]), KEY)
  h.svc.store.sqlite
    .prepare('UPDATE mart_idempotency_keys SET created_at = created_at - ?')
    .run(IDEMPOTENCY_WINDOW_MS)
  const later = await h.place(alice, h.lines(['p1', 1]), KEY)
  expect(later.headers.get('idempotent-replayed')).toBeNull()
  expect(later.body.id).not.toBe(first.body.id)
  expect(h.count('orders')).toBe(2)
})
