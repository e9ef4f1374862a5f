// What the service remembers of other services' events, on a real database: the newest word on a
// person or a product wins whatever order the events arrive in; an order is as its last event says.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Store, tx } from '@mart/shared'
import { sampleOrder, tempStore } from '@mart/shared/testing'
import type * as schema from '../src/db/schema.ts'
import { rememberOrder, rememberProduct, rememberUser } from '../src/directory.ts'
import { definition } from '../src/index.ts'

let db: ReturnType<typeof tempStore<typeof schema>>
let store: Store<typeof schema>
beforeEach(() => {
  db = tempStore(definition)
  store = db.store
})
afterEach(() => db.close())

const person = (email: string, disabled = false) =>
  ({ id: 'u1', username: 'alice', email, role: 'user', disabled }) as const
const row = (table: string, id: string) => store.sqlite.prepare(`SELECT * FROM ${table} WHERE id = ?`).get(id)

test('a person is as their newest event says: a late older one changes nothing; deleted or disabled is inactive', () => {
  tx(store, (t) => rememberUser(t, person('a2@mart.test'), 'e2', false))
  tx(store, (t) => rememberUser(t, person('a1@mart.test'), 'e1', false))
  expect(row('recipients', 'u1')).toMatchObject({ email: 'a2@mart.test', active: 1, event_id: 'e2' })
  tx(store, (t) => rememberUser(t, person('a3@mart.test', true), 'e3', false))
  expect(row('recipients', 'u1')).toMatchObject({ email: 'a3@mart.test', active: 0, event_id: 'e3' })
  tx(store, (t) => rememberUser(t, person('a3@mart.test'), 'e4', true))
  expect(row('recipients', 'u1')).toMatchObject({ active: 0, event_id: 'e4' })
})

test('a product keeps its newest name; an order its last event', () => {
  tx(store, (t) => rememberProduct(t, { id: 'p1', name: 'Mug v2' }, 'e2'))
  tx(store, (t) => rememberProduct(t, { id: 'p1', name: 'Mug' }, 'e1'))
  expect(row('products', 'p1')).toMatchObject({ name: 'Mug v2', event_id: 'e2' })

  const placed = sampleOrder('o1', [['p1', 2]])
  const event = (type: 'order.placed' | 'order.awaiting_payment', total: number) =>
    ({
      type,
      id: crypto.randomUUID(),
      data: { ...placed, total: { amount: total, currency: 'EUR' } },
    }) as never
  tx(store, (t) => rememberOrder(t, event('order.placed', 1000)))
  tx(store, (t) => rememberOrder(t, event('order.awaiting_payment', 900)))
  expect(row('orders', placed.orderId)).toMatchObject({ total_amount: 900, number: placed.number })
})
