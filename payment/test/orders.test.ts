// Payment's read model of orders, on a real database: each order event records what it says, and
// an order.placed brought back late (a redrive) never reopens an order that moved on.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Event, type Store, tx } from '@mart/shared'
import { sampleOrder, tempStore } from '@mart/shared/testing'
import type * as schema from '../src/db/schema.ts'
import { definition } from '../src/index.ts'
import { moveOrder, orderIn, recordOrder } from '../src/orders.ts'

let db: ReturnType<typeof tempStore<typeof schema>>
let store: Store<typeof schema>
beforeEach(() => {
  db = tempStore(definition)
  store = db.store
})
afterEach(() => db.close())

const placed = sampleOrder('o1', [['p1', 2]])
const expiresAt = '2026-12-06T10:00:00.000Z'
const event = (type: 'order.placed' | 'order.awaiting_payment') =>
  ({
    type,
    id: crypto.randomUUID(),
    data: type === 'order.placed' ? placed : { ...placed, expiresAt },
  }) as Event<typeof type>
const order = () => tx(store, (t) => orderIn(t.db, 'o1'))

test('placed is pending, awaiting payment unpaid until its expiry; a late placed reopens nothing', () => {
  tx(store, (t) => recordOrder(t, event('order.placed')))
  expect(order()).toMatchObject({ state: 'pending', expiresAt: null, totalAmount: placed.total.amount })
  tx(store, (t) => recordOrder(t, event('order.awaiting_payment')))
  expect(order()).toMatchObject({ state: 'unpaid', expiresAt: Date.parse(expiresAt) })

  tx(store, (t) => recordOrder(t, event('order.placed')))
  expect(order()).toMatchObject({ state: 'unpaid', expiresAt: Date.parse(expiresAt) })
  expect(tx(store, (t) => moveOrder(t, 'o1', 'paid'))).toMatchObject({ state: 'unpaid' })
  tx(store, (t) => recordOrder(t, event('order.awaiting_payment')))
  expect(order()).toMatchObject({ state: 'paid', lines: JSON.stringify(placed.lines) })
  expect(tx(store, (t) => moveOrder(t, 'unknown', 'paid'))).toBeUndefined()
})
