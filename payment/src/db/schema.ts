import { isOneOf } from '@mart/shared/db/one-of'
import { paymentMethods } from '@mart/shared/events/enums'
import { sql } from 'drizzle-orm'
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { orderStates } from '../orders.ts'
import { openStatuses, paymentStatuses } from '../transitions.ts'

/** Orders as payment needs them, from order.events: whose, how much, and whether they can be paid. */
export const orders = sqliteTable(
  'orders',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    number: text('number').notNull(),
    state: text('state', { enum: orderStates }).notNull(),
    totalAmount: integer('total_amount').notNull(),
    currency: text('currency').notNull(),
    /** JSON of the priced lines (name, quantity, unit price): the Checkout Session's line items. */
    lines: text('lines').notNull(),
    /** When the order's reservation ends (order.awaiting_payment). */
    expiresAt: integer('expires_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [check('orders_state', isOneOf(t.state, orderStates))],
)

export const payments = sqliteTable(
  'payments',
  {
    id: text('id').primaryKey(),
    orderId: text('order_id').notNull(),
    userId: text('user_id').notNull(),
    method: text('method', { enum: paymentMethods }).notNull(),
    status: text('status', { enum: paymentStatuses }).notNull(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    refundedAmount: integer('refunded_amount').notNull().default(0),
    stripeSessionId: text('stripe_session_id'),
    stripePaymentIntentId: text('stripe_payment_intent_id'),
    checkoutUrl: text('checkout_url'),
    /** When the Checkout Session expires. */
    expiresAt: integer('expires_at'),
    /** Why it needs review, or failed. */
    note: text('note'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('payments_session').on(t.stripeSessionId),
    // One open payment per order: the second request finds the first instead of opening another.
    uniqueIndex('payments_open_per_order').on(t.orderId).where(isOneOf(t.status, openStatuses)),
    index('payments_user').on(t.userId, t.id),
    index('payments_order').on(t.orderId, t.id),
    check('payments_status', isOneOf(t.status, paymentStatuses)),
    check('payments_method', isOneOf(t.method, paymentMethods)),
    check('payments_refunded', sql`${t.refundedAmount} >= 0 AND ${t.refundedAmount} <= ${t.amount}`),
  ],
)

/** Stripe events already applied, by Stripe's event id: the webhook's inbox. */
export const stripeEvents = sqliteTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  receivedAt: integer('received_at').notNull(),
})

/** Each refund asked for: made at Stripe by a job (with its id as the idempotency key), or in cash. */
export const refunds = sqliteTable(
  'refunds',
  {
    id: text('id').primaryKey(),
    paymentId: text('payment_id')
      .notNull()
      .references(() => payments.id),
    amount: integer('amount').notNull(),
    reason: text('reason').notNull(),
    note: text('note'),
    status: text('status', { enum: ['pending', 'succeeded'] }).notNull(),
    stripeRefundId: text('stripe_refund_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('refunds_payment').on(t.paymentId), check('refunds_amount', sql`${t.amount} > 0`)],
)
