// What the API shows of an order, its schema for /docs and the mapping from its rows.
import { BodyInteger, LiteralUnion, onceFor, roles, stockRejectionReasons, type Tx } from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { asc, eq, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { orderLines, orders } from './db/schema.ts'

import { orderStatuses, paymentStates } from './transitions.ts'

export type Db = Tx<typeof schema>['db']
export type OrderRow = typeof orders.$inferSelect
export type LineRow = typeof orderLines.$inferSelect

const Money = Type.Object({ amount: BodyInteger(), currency: Type.String() })

export const ShippingAddress = Type.Object({
  name: Type.String(),
  line1: Type.String(),
  line2: Type.Optional(Type.String()),
  city: Type.String(),
  postalCode: Type.String(),
  country: Type.String(),
  phone: Type.Optional(Type.String()),
})

/** Why an order ended, when it did: inventory's reasons, or who cancelled and why. */
const Outcome = Type.Union([
  Type.Object({
    kind: Type.Literal('rejected'),
    reasons: Type.Array(
      Type.Object({
        productId: Type.String(),
        reason: LiteralUnion(stockRejectionReasons),
        requested: BodyInteger(),
        available: BodyInteger(),
      }),
    ),
  }),
  Type.Object({
    kind: Type.Literal('cancelled'),
    by: LiteralUnion(roles),
    reason: Type.String(),
    refundDue: Type.Boolean(),
  }),
  Type.Object({ kind: Type.Literal('expired') }),
])
export type Outcome = Static<typeof Outcome>

export const OrderView = Type.Object({
  id: Type.String(),
  number: Type.String({ description: 'what people read and say: MRT-10042' }),
  userId: Type.String(),
  status: LiteralUnion(orderStatuses),
  payment: LiteralUnion(paymentStates, { description: 'where the money stands, beside the status' }),
  lines: Type.Array(
    Type.Object({
      productId: Type.String(),
      name: Type.String({ description: 'the product name when the order was placed' }),
      quantity: BodyInteger(),
      unitPrice: Money,
      lineTotal: Money,
    }),
  ),
  total: Money,
  shippingAddress: Type.Union([ShippingAddress, Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'when an unpaid order expires; null once it cannot',
  }),
  outcome: Type.Union([Outcome, Type.Null()]),
  version: BodyInteger({ description: 'rises with every change; the stream event id' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
})
export type OrderView = Static<typeof OrderView>

export const orderNumber = (n: number) => `MRT-${String(n).padStart(5, '0')}`
const iso = (ms: number) => new Date(ms).toISOString()

export function viewOf(o: OrderRow, lines: LineRow[]): OrderView {
  const money = (amount: number) => ({ amount, currency: o.currency })
  return {
    id: o.id,
    number: orderNumber(o.number),
    userId: o.userId,
    status: o.status,
    payment: o.payment,
    lines: lines.map((l) => ({
      productId: l.productId,
      name: l.name,
      quantity: l.quantity,
      unitPrice: money(l.unitAmount),
      lineTotal: money(l.unitAmount * l.quantity),
    })),
    total: money(o.totalAmount),
    shippingAddress: o.shippingAddress === null ? null : JSON.parse(o.shippingAddress),
    note: o.note,
    expiresAt: o.expiresAt === null ? null : iso(o.expiresAt),
    outcome: o.outcome === null ? null : (JSON.parse(o.outcome) as Outcome),
    version: o.version,
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
  }
}

const statements = onceFor((db: Db) => ({
  order: db
    .select()
    .from(orders)
    .where(eq(orders.id, sql.placeholder('id')))
    .prepare(),
  lines: db
    .select()
    .from(orderLines)
    .where(eq(orderLines.orderId, sql.placeholder('id')))
    .orderBy(asc(orderLines.position))
    .prepare(),
}))

export const linesOf = (db: Db, orderId: string): LineRow[] => statements(db).lines.all({ id: orderId })

export const orderIn = (db: Db, orderId: string): OrderRow | undefined =>
  statements(db).order.get({ id: orderId })
