// What the API shows of a payment, and its schema for /docs.
import { BodyInteger, LiteralUnion, paymentMethods } from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import type { PaymentRow } from './payments.ts'
import { paymentStatuses } from './transitions.ts'

const Money = Type.Object({ amount: BodyInteger(), currency: Type.String() })
const nullable = <S extends ReturnType<typeof Type.String>>(s: S) => Type.Union([s, Type.Null()])

export const PaymentView = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  userId: Type.String(),
  method: LiteralUnion(paymentMethods),
  status: LiteralUnion(paymentStatuses),
  amount: Money,
  refunded: Money,
  checkoutUrl: nullable(
    Type.String({ description: "Stripe's hosted checkout page: send the customer there" }),
  ),
  stripeSessionId: nullable(Type.String({ description: "what support looks up in Stripe's dashboard" })),
  expiresAt: nullable(Type.String({ format: 'date-time', description: 'when the Checkout Session expires' })),
  note: nullable(Type.String({ description: 'why it needs review, or failed' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
})
export type PaymentView = Static<typeof PaymentView>

const iso = (ms: number) => new Date(ms).toISOString()

export const viewOf = (p: PaymentRow): PaymentView => ({
  id: p.id,
  orderId: p.orderId,
  userId: p.userId,
  method: p.method,
  status: p.status,
  amount: { amount: p.amount, currency: p.currency },
  refunded: { amount: p.refundedAmount, currency: p.currency },
  checkoutUrl: p.checkoutUrl,
  stripeSessionId: p.stripeSessionId,
  expiresAt: p.expiresAt === null ? null : iso(p.expiresAt),
  note: p.note,
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
})
