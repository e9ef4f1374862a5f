// What Stripe's word about a Checkout Session does to our payment, wherever it came from: the
// webhook, the success page or reconciliation. Each is applied through the same table in one
// transaction, so whichever arrives first settles the payment and the others change nothing.
import { type Logger, onceFor } from '@mart/shared'
import { and, eq, isNull, sql } from 'drizzle-orm'
import { payments } from './db/schema.ts'
import type { PaymentBook, PaymentRow, T } from './payments.ts'
import type { Session } from './stripe.ts'

const p = sql.placeholder
/** Prepared once per database: every webhook and success page looks for its payment. */
const statements = onceFor((db: T['db']) => ({
  bySession: db
    .select()
    .from(payments)
    .where(eq(payments.stripeSessionId, p('sessionId')))
    .prepare(),
  // set() takes SQL, not placeholders.
  claim: db
    .update(payments)
    .set({ stripeSessionId: sql`${p('sessionId')}` })
    .where(and(eq(payments.id, p('id')), eq(payments.method, 'stripe'), isNull(payments.stripeSessionId)))
    .returning()
    .prepare(),
}))

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === 'string' ? v : (v?.id ?? null))

/**
 * Our payment of a session: by its session id, or (a webhook that beat our own write of the
 * session id) by the payment id we gave Stripe as client_reference_id, if that payment has no
 * session yet. A session we did not create finds nothing.
 */
export function paymentOfSession(
  t: T,
  session: Pick<Session, 'id' | 'client_reference_id'>,
): PaymentRow | undefined {
  const bySession = statements(t.db).bySession.get({ sessionId: session.id })
  if (bySession) return bySession
  const id = session.client_reference_id
  if (!id) return undefined
  const claimed = statements(t.db).claim.get({ id, sessionId: session.id })
  return claimed ?? undefined
}

/** Settles the payment as the session now stands; answers it (undefined for a session not ours). */
export function settle(t: T, book: PaymentBook, log: Logger, session: Session): PaymentRow | undefined {
  const p = paymentOfSession(t, session)
  if (!p) {
    log.warn({ sessionId: session.id }, 'a Checkout Session we did not create: acknowledged, nothing changed')
    return undefined
  }
  const paymentIntentId = idOf(session.payment_intent)
  if (session.status === 'expired') return book.apply(t, p, 'expired')
  if (session.status !== 'complete') return p
  if (session.payment_status === 'unpaid') return book.apply(t, p, 'settling', { paymentIntentId })
  // Paid: only if it is the money the order asked for.
  const received =
    session.amount_total === null || session.currency === null
      ? null
      : { amount: session.amount_total, currency: session.currency.toUpperCase() }
  if (!received || received.amount !== p.amount || received.currency !== p.currency) {
    const note = received
      ? `Stripe took ${received.amount} ${received.currency}, the order is ${p.amount} ${p.currency}`
      : 'Stripe reported no amount for the session'
    return book.apply(t, p, 'mismatch', { paymentIntentId, note, received })
  }
  return book.apply(t, p, 'paid', { paymentIntentId })
}

/** A delayed payment (a bank debit) failed after the session completed. */
export function failed(t: T, book: PaymentBook, session: Session): PaymentRow | undefined {
  const p = paymentOfSession(t, session)
  return p && book.apply(t, p, 'failed', { note: 'the delayed payment failed' })
}

/**
 * A refund Stripe reports (charge.refunded): what it has refunded beyond what we asked for was
 * refunded in Stripe's dashboard, and is recorded as such.
 */
export function refundedAtStripe(
  t: T,
  book: PaymentBook,
  log: Logger,
  charge: { payment_intent: string | { id: string } | null; amount_refunded: number },
): void {
  const intent = idOf(charge.payment_intent)
  const p = intent
    ? t.db.select().from(payments).where(eq(payments.stripePaymentIntentId, intent)).get()
    : undefined
  if (!p) {
    log.warn({ paymentIntent: intent }, 'a refund of a charge we do not know: acknowledged, nothing changed')
    return
  }
  const beyond = Math.min(charge.amount_refunded, p.amount) - p.refundedAmount
  if (beyond <= 0) return
  book.requestRefund(t, p, beyond, 'dashboard', 'refunded in Stripe', true)
}
