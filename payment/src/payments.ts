// Applies the payment table to one payment in the caller's transaction, and what follows from a
// payment's money: refunds asked for (by an admin, a cancellation, or money that arrived for an
// order that no longer takes it) and recorded once Stripe has made them.
import { type Logger, onceFor, type RefundReason, type Tx } from '@mart/shared'
import { and, eq, ne, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { payments, refunds } from './db/schema.ts'
import { endedStates, orderIn } from './orders.ts'
import { type PaymentInput, type PaymentStatus, transition } from './transitions.ts'

export type T = Tx<typeof schema>
export type PaymentRow = typeof payments.$inferSelect
export type RefundRow = typeof refunds.$inferSelect

/** The job that makes a refund at Stripe; its key is the refund id. */
export const REFUND_JOB = 'stripe.refund'
/** The job that expires an open Checkout Session whose order ended; its key is the payment id. */
export const EXPIRE_SESSION_JOB = 'stripe.expire_session'
/** The job that asks Stripe how a session ended when no webhook said so; its key is the payment id. */
export const RECONCILE_JOB = 'stripe.reconcile'

const placeholder = sql.placeholder
/**
 * Prepared once per database: every payment is read and moved several times (created, opened,
 * settled) and every order event looks for its payments. set() takes SQL, not placeholders.
 */
const statements = onceFor((db: T['db']) => ({
  byId: db
    .select()
    .from(payments)
    .where(eq(payments.id, placeholder('id')))
    .prepare(),
  ofOrder: db
    .select()
    .from(payments)
    .where(eq(payments.orderId, placeholder('orderId')))
    .prepare(),
  /** A move: the new status, and the payment intent and note when Stripe's word brings them. */
  move: db
    .update(payments)
    .set({
      status: sql`${placeholder('status')}`,
      updatedAt: sql`${placeholder('updatedAt')}`,
      stripePaymentIntentId: sql`coalesce(${placeholder('paymentIntentId')}, ${payments.stripePaymentIntentId})`,
      note: sql`coalesce(${placeholder('note')}, ${payments.note})`,
    })
    .where(eq(payments.id, placeholder('id')))
    .returning()
    .prepare(),
  otherSucceeded: db
    .select({ id: payments.id })
    .from(payments)
    .where(
      and(
        eq(payments.orderId, placeholder('orderId')),
        ne(payments.id, placeholder('id')),
        eq(payments.status, 'succeeded'),
      ),
    )
    .prepare(),
}))

export const paymentIn = (db: T['db'], id: string): PaymentRow | undefined => statements(db).byId.get({ id })

/** What Stripe's word adds to the row: the payment intent, and why it needs review. */
export interface Details {
  paymentIntentId?: string | null
  note?: string
  /** What arrived, for a mismatch. */
  received?: { amount: number; currency: string } | null
}

const ref = (p: PaymentRow) => ({ paymentId: p.id, orderId: p.orderId, userId: p.userId })
const money = (p: PaymentRow, amount = p.amount) => ({ amount, currency: p.currency })

export class PaymentBook {
  private readonly ignored = new Map<string, number>()

  constructor(private readonly log: Logger) {}

  /** Moves the payment as the table says; answers its row afterwards (unchanged when ignored). */
  apply(t: T, payment: PaymentRow, input: PaymentInput, details: Details = {}): PaymentRow {
    const move = transition(payment.status, input)
    if (!move) {
      t.afterCommit(() => {
        const pair = `${payment.status} x ${input}`
        const ignored = (this.ignored.get(pair) ?? 0) + 1
        this.ignored.set(pair, ignored)
        this.log.warn(
          { paymentId: payment.id, orderId: payment.orderId, state: payment.status, input, ignored },
          'payment input ignored: no transition from this state',
        )
      })
      return payment
    }
    const updated = statements(t.db).move.get({
      id: payment.id,
      status: move.to,
      updatedAt: Date.now(),
      // Empty says nothing: the row keeps what it had.
      paymentIntentId: details.paymentIntentId || null,
      note: details.note || null,
    }) as PaymentRow
    if (move.emit === 'payment.succeeded') {
      t.publish(
        'payment.succeeded',
        { ...ref(updated), method: updated.method, amount: money(updated) },
        { subject: updated.orderId },
      )
      this.refundIfUnwanted(t, updated)
    } else if (move.emit === 'payment.failed') {
      t.publish(
        'payment.failed',
        { ...ref(updated), method: updated.method, reason: details.note ?? 'the payment failed' },
        { subject: updated.orderId },
      )
    } else if (move.emit === 'payment.needs_review') {
      t.publish(
        'payment.needs_review',
        {
          ...ref(updated),
          reason: details.note ?? 'does not match the order',
          expected: money(updated),
          received: details.received ?? null,
        },
        { subject: updated.orderId },
      )
    }
    return updated
  }

  /**
   * Money that arrived for an order that ended (cancelled, expired, rejected) or that another
   * payment already paid is given back at once: the order is not revived, nobody pays twice.
   */
  private refundIfUnwanted(t: T, p: PaymentRow): void {
    const order = orderIn(t.db, p.orderId)
    if (order && endedStates.includes(order.state)) {
      this.requestRefund(t, p, p.amount, 'order_ended', `the order was ${order.state} when the money arrived`)
      return
    }
    const other = statements(t.db).otherSucceeded.get({ orderId: p.orderId, id: p.id })
    if (other) this.requestRefund(t, p, p.amount, 'duplicate', `the order was already paid by ${other.id}`)
  }

  /**
   * Asks for a refund of `amount` (counted against the payment at once, so two requests cannot
   * give back more than it took). Cash is given back on the spot; Stripe's refund is a job.
   */
  requestRefund(
    t: T,
    p: PaymentRow,
    amount: number,
    reason: RefundReason,
    note?: string,
    /** Made already, outside Mart (in Stripe's dashboard): only recorded. */
    made = false,
  ): RefundRow {
    const now = Date.now()
    t.db
      .update(payments)
      .set({ refundedAmount: p.refundedAmount + amount, updatedAt: now })
      .where(eq(payments.id, p.id))
      .run()
    const refund = t.db
      .insert(refunds)
      .values({
        id: Bun.randomUUIDv7(),
        paymentId: p.id,
        amount,
        reason,
        note: note ?? null,
        status: 'pending',
        stripeRefundId: null,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get()
    if (p.method === 'cod' || made) return this.refunded(t, refund, null)
    t.schedule(REFUND_JOB, { key: refund.id })
    return refund
  }

  /** The refund was made: payment.refunded, and the payment `refunded` once every cent is back. */
  refunded(t: T, refund: RefundRow, stripeRefundId: string | null): RefundRow {
    const done = t.db
      .update(refunds)
      .set({ status: 'succeeded', stripeRefundId, updatedAt: Date.now() })
      .where(and(eq(refunds.id, refund.id), eq(refunds.status, 'pending')))
      .returning()
      .get()
    if (!done) return refund
    const p = paymentIn(t.db, refund.paymentId) as PaymentRow
    t.publish(
      'payment.refunded',
      {
        ...ref(p),
        amount: money(p, refund.amount),
        refundedTotal: money(p, p.refundedAmount),
        reason: refund.reason as RefundReason,
      },
      { subject: p.orderId },
    )
    if (p.refundedAmount === p.amount && !this.anyPending(t, p.id)) this.apply(t, p, 'refunded_in_full')
    return done
  }

  private anyPending(t: T, paymentId: string): boolean {
    return (
      t.db
        .select({ id: refunds.id })
        .from(refunds)
        .where(and(eq(refunds.paymentId, paymentId), eq(refunds.status, 'pending')))
        .get() !== undefined
    )
  }

  /** The payments of an order still open, of one method or both. */
  openOf(t: T, orderId: string, statuses: PaymentStatus[]): PaymentRow[] {
    return statements(t.db)
      .ofOrder.all({ orderId })
      .filter((p) => statuses.includes(p.status))
  }
}
