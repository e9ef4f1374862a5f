// A payment's life as a table: what each input (Stripe's word about its session, an admin's
// action, our own call) does to a payment in each state. Pure: payments.ts applies it. States only
// move forward: a late `expired` never undoes `succeeded`, a webhook that repeats what the success
// page already settled changes nothing. A pair the table does not name is ignored and logged.
import type { EventType } from '@mart/shared'

export const paymentStatuses = [
  /** The row exists, Stripe's session is being created (or its creation died half-way). */
  'creating',
  /** The session is open: the customer can pay. */
  'pending',
  /** Completed with a payment method that settles later (a bank debit). */
  'processing',
  'succeeded',
  'failed',
  /** The session expired unpaid, or we expired it because the order ended. */
  'expired',
  /** Money arrived that does not match the order: held for an admin, never succeeded. */
  'needs_review',
  /** Every cent given back. */
  'refunded',
  /** Cash on delivery chosen: the courier collects it. */
  'cod_pending',
] as const
export type PaymentStatus = (typeof paymentStatuses)[number]

/** Where a payment can still take money: an order may have one of these at a time. */
export const openStatuses = [
  'creating',
  'pending',
  'processing',
  'cod_pending',
] as const satisfies PaymentStatus[]
export const isOpen = (s: PaymentStatus) => (openStatuses as readonly PaymentStatus[]).includes(s)

export const paymentInputs = [
  /** The Checkout Session was created. */
  'session_opened',
  /** Stripe says the session is paid (webhook, success page or reconciliation), amount matching. */
  'paid',
  /** Stripe says money arrived that does not match the order. */
  'mismatch',
  /** Completed, payment settling later. */
  'settling',
  /** The delayed payment failed. */
  'failed',
  /** The session expired (at Stripe, or expired by us). */
  'expired',
  /** The cash was collected (an admin). */
  'collected',
  /** Everything is refunded now. */
  'refunded_in_full',
] as const
export type PaymentInput = (typeof paymentInputs)[number]

export interface PaymentMove {
  to: PaymentStatus
  emit?: Extract<EventType, 'payment.succeeded' | 'payment.failed' | 'payment.needs_review'>
}

const to = (status: PaymentStatus, emit?: PaymentMove['emit']): PaymentMove =>
  emit ? { to: status, emit } : { to: status }

const table: Record<PaymentStatus, Partial<Record<PaymentInput, PaymentMove>>> = {
  // A webhook can beat our own write of the session id: the payment is found by its id
  // (client_reference_id), so Stripe's word counts from the start.
  creating: {
    session_opened: to('pending'),
    paid: to('succeeded', 'payment.succeeded'),
    mismatch: to('needs_review', 'payment.needs_review'),
    settling: to('processing'),
    expired: to('expired'),
  },
  pending: {
    paid: to('succeeded', 'payment.succeeded'),
    mismatch: to('needs_review', 'payment.needs_review'),
    settling: to('processing'),
    failed: to('failed', 'payment.failed'),
    expired: to('expired'),
  },
  // Ignored: expiry (a completed session no longer expires).
  processing: {
    paid: to('succeeded', 'payment.succeeded'),
    mismatch: to('needs_review', 'payment.needs_review'),
    failed: to('failed', 'payment.failed'),
  },
  // Ignored: anything that would take it back (a late expiry, a repeated payment).
  succeeded: { refunded_in_full: to('refunded') },
  failed: {},
  // Our `expired` may be our own belief: we asked Stripe to expire the session as the customer paid.
  // Money is never ignored: it succeeds, and is refunded if the order no longer wants it.
  expired: {
    paid: to('succeeded', 'payment.succeeded'),
    mismatch: to('needs_review', 'payment.needs_review'),
  },
  // An admin settles it by refunding.
  needs_review: { refunded_in_full: to('refunded') },
  refunded: {},
  // The order ended before the courier came: nothing will be collected.
  cod_pending: { collected: to('succeeded', 'payment.succeeded'), expired: to('expired') },
}

export const transition = (state: PaymentStatus, input: PaymentInput): PaymentMove | undefined =>
  table[state][input]
