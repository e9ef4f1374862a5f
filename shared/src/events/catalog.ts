import { type Static, type TSchema, Type } from '@sinclair/typebox'
import {
  LiteralUnion,
  paymentMethods,
  refundReasons,
  roles,
  sessionRevocationReasons,
  stockRejectionReasons,
  stockStatuses,
} from './enums.ts'
import './formats.ts'

/** One topic per producing service (DESIGN.md "Events"). */
export const topics = [
  'user.events',
  'product.events',
  'inventory.events',
  'order.events',
  'payment.events',
] as const
export type Topic = (typeof topics)[number]

/** Where poison messages of a topic go. */
export const dlqTopic = (topic: string): string => `${topic}.dlq`

const Id = Type.String({ minLength: 1, maxLength: 64 })
const Quantity = Type.Integer({ minimum: 1, maximum: 1_000_000 })

export const Money = Type.Object(
  {
    amount: Type.Integer({ minimum: 0, description: 'integer minor units: 1999 is 19.99' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' }),
  },
  { additionalProperties: false },
)

const UserSnapshot = Type.Object({
  id: Id,
  username: Type.String({ minLength: 1, maxLength: 64 }),
  email: Type.String({ format: 'email', maxLength: 254 }),
  role: LiteralUnion(roles),
  disabled: Type.Boolean(),
})

const ProductSnapshot = Type.Object({
  id: Id,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 10_000 }),
  price: Money,
  sku: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
  imageUrl: Type.Union([Type.String({ format: 'uri', maxLength: 2048 }), Type.Null()]),
  active: Type.Boolean(),
})

const Line = Type.Object({ productId: Id, quantity: Quantity })
const PricedLine = Type.Object({
  productId: Id,
  name: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'the product name when the order was placed',
  }),
  quantity: Quantity,
  unitPrice: Money,
})
const Lines = Type.Array(Line, { minItems: 1, maxItems: 100 })

const StockRejection = Type.Object({
  productId: Id,
  reason: LiteralUnion(stockRejectionReasons),
  requested: Quantity,
  available: Type.Integer({ minimum: 0 }),
})

/** The order number people read and say (MRT-10042): on every order event, so no consumer has to look it up. */
const OrderNumber = Type.String({
  pattern: '^MRT-[0-9]{5,12}$',
  description: 'the human-readable order number',
})
const OrderRef = { orderId: Id, userId: Id, number: OrderNumber }
const PaymentMethod = LiteralUnion(paymentMethods)
const PaymentRef = { paymentId: Id, orderId: Id, userId: Id }

interface Definition<Tp extends Topic, S extends TSchema> {
  topic: Tp
  version: number
  data: S
  description: string
}

const define = <Tp extends Topic, S extends TSchema>(
  topic: Tp,
  description: string,
  data: S,
  version = 1,
): Definition<Tp, S> => ({ topic, version, data, description })

/**
 * Every event type, the topic it travels on, its current version and the schema of its data.
 * Producers and consumers validate against this one catalog; docs/events is generated from it.
 */
export const catalog = {
  'user.registered': define('user.events', 'A user account was created.', UserSnapshot),
  'user.updated': define('user.events', 'A user changed profile, role or disabled flag.', UserSnapshot),
  'user.deleted': define('user.events', 'A user account was removed.', UserSnapshot),
  'user.sessions_revoked': define(
    'user.events',
    "Refuse the user's access tokens issued at or before `notBefore`: a role was lowered, the account disabled or " +
      'deleted, the password changed, or the user logged out everywhere. Every service keeps it until `expiresAt`, ' +
      'when every token it refuses has expired anyway.',
    Type.Object({
      userId: Id,
      notBefore: Type.String({
        format: 'date-time',
        description: 'tokens issued at or before this instant are refused',
      }),
      expiresAt: Type.String({
        format: 'date-time',
        description: 'after this, no token it refuses is still valid',
      }),
      reason: LiteralUnion(sessionRevocationReasons),
    }),
  ),

  'product.created': define(
    'product.events',
    'A product entered the catalogue, with the stock it starts with.',
    Type.Composite([
      ProductSnapshot,
      // Optional: a producer that does not track stock leaves it out, and inventory starts at 0.
      Type.Object({ initialStock: Type.Optional(Type.Integer({ minimum: 0 })) }),
    ]),
  ),
  'product.updated': define(
    'product.events',
    'A product changed; `changed` names the fields, the rest is the new state.',
    Type.Composite([
      ProductSnapshot,
      Type.Object({ changed: Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 }) }),
    ]),
  ),
  'product.deleted': define(
    'product.events',
    'A product left the catalogue (soft delete).',
    Type.Object({ id: Id }),
  ),

  'stock.reserved': define(
    'inventory.events',
    'Every line of an order is reserved.',
    Type.Object({ orderId: Id, lines: Lines }),
  ),
  'stock.rejected': define(
    'inventory.events',
    'An order could not be reserved; nothing was reserved.',
    Type.Object({ orderId: Id, reasons: Type.Array(StockRejection, { minItems: 1, maxItems: 100 }) }),
  ),
  'stock.released': define(
    'inventory.events',
    "An order's stock went back on the shelf: its reservation was released, or, cancelled before it shipped, " +
      'what it had taken off the shelf (stock.committed) was restocked.',
    Type.Object({ orderId: Id, lines: Lines }),
  ),
  'stock.committed': define(
    'inventory.events',
    "An order's reservation left the shelf: it was paid or shipped, whichever came first.",
    Type.Object({ orderId: Id, lines: Lines }),
  ),
  'stock.adjusted': define(
    'inventory.events',
    'The availability of a product changed.',
    Type.Object({
      productId: Id,
      onHand: Type.Integer({ minimum: 0 }),
      reserved: Type.Integer({ minimum: 0 }),
      available: Type.Integer({ minimum: 0 }),
      lowStockThreshold: Type.Integer({ minimum: 0 }),
      status: LiteralUnion(stockStatuses),
      reason: Type.String({ maxLength: 200 }),
    }),
  ),
  'stock.low': define(
    'inventory.events',
    'Available stock dropped to the low-stock threshold or below.',
    Type.Object({
      productId: Id,
      available: Type.Integer({ minimum: 0 }),
      lowStockThreshold: Type.Integer({ minimum: 0 }),
    }),
  ),

  'order.placed': define(
    'order.events',
    "A user placed an order; names, unit prices and the total are the order service's, from its catalogue read model.",
    Type.Object({
      ...OrderRef,
      lines: Type.Array(PricedLine, { minItems: 1, maxItems: 100 }),
      total: Money,
    }),
  ),
  'order.awaiting_payment': define(
    'order.events',
    'Every line is reserved: the order can be paid, for this total, until `expiresAt`.',
    Type.Object({
      ...OrderRef,
      lines: Type.Array(PricedLine, { minItems: 1, maxItems: 100 }),
      total: Money,
      expiresAt: Type.String({ format: 'date-time' }),
    }),
  ),
  'order.confirmed': define(
    'order.events',
    'The order is confirmed for delivery (cash on delivery chosen); it no longer expires.',
    Type.Object(OrderRef),
  ),
  'order.rejected': define(
    'order.events',
    'The order could not be reserved.',
    Type.Object({ ...OrderRef, reasons: Type.Array(StockRejection, { maxItems: 100 }) }),
  ),
  'order.cancelled': define(
    'order.events',
    'The user (before payment) or an admin (until shipping) cancelled the order; `refundDue` says money was taken.',
    Type.Object({
      ...OrderRef,
      by: LiteralUnion(roles, { description: 'who cancelled: the customer or an admin' }),
      actorId: Id,
      reason: Type.String({ maxLength: 500 }),
      refundDue: Type.Boolean(),
    }),
  ),
  'order.paid': define(
    'order.events',
    'Payment for the order succeeded (for cash on delivery: the cash was collected).',
    Type.Object({ ...OrderRef, paymentId: Id }),
  ),
  'order.expired': define(
    'order.events',
    'The reservation time ran out before payment.',
    Type.Object(OrderRef),
  ),
  'order.shipped': define('order.events', 'The order left the warehouse.', Type.Object(OrderRef)),
  'order.delivered': define('order.events', 'The order reached the customer.', Type.Object(OrderRef)),

  'payment.initiated': define(
    'payment.events',
    'A payment was started for an order.',
    Type.Object({ ...PaymentRef, method: PaymentMethod, amount: Money }),
  ),
  'payment.succeeded': define(
    'payment.events',
    'Money for the order was received.',
    Type.Object({ ...PaymentRef, method: PaymentMethod, amount: Money }),
  ),
  'payment.failed': define(
    'payment.events',
    'A payment attempt failed.',
    Type.Object({ ...PaymentRef, method: PaymentMethod, reason: Type.String({ maxLength: 500 }) }),
  ),
  'payment.refunded': define(
    'payment.events',
    'Money was given back: `amount` this time, `refundedTotal` so far. `reason` says why; `order_ended` and ' +
      '`duplicate` are automatic (money arrived for an order that had ended, or was paid by another payment).',
    Type.Object({
      ...PaymentRef,
      amount: Money,
      refundedTotal: Type.Optional(Money),
      reason: Type.Optional(LiteralUnion(refundReasons)),
    }),
  ),
  'payment.needs_review': define(
    'payment.events',
    'Stripe reported money that does not match the order (amount or currency) or a session we did not expect: ' +
      'the payment is held for an admin, never succeeded.',
    Type.Object({
      ...PaymentRef,
      reason: Type.String({ maxLength: 500 }),
      expected: Money,
      received: Type.Union([Money, Type.Null()]),
    }),
  ),
  'payment.cod_selected': define(
    'payment.events',
    'The user chose cash on delivery.',
    Type.Object({ ...PaymentRef, amount: Money }),
  ),
} as const

export type Catalog = typeof catalog
export type EventType = keyof Catalog
export type EventData<T extends EventType> = Static<Catalog[T]['data']>
export type TopicOf<T extends EventType> = Catalog[T]['topic']
export type EventTypesOn<Tp extends Topic> = {
  [T in EventType]: Catalog[T]['topic'] extends Tp ? T : never
}[EventType]

export const isEventType = (type: string): type is EventType => Object.hasOwn(catalog, type)
