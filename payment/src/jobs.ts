// The payment service's durable jobs: every Stripe call that follows an event or a webhook, made
// outside any transaction with an idempotency key, its outcome recorded in one.

import type { Store } from '@mart/shared'
import { defineJob, type JobKinds, type Logger, PermanentError } from '@mart/shared'
import { eq } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { refunds } from './db/schema.ts'
import { EXPIRE_SESSION_JOB, type PaymentBook, paymentIn, RECONCILE_JOB, REFUND_JOB } from './payments.ts'
import { settle } from './settle.ts'
import { isTransient, type Session, type StripeGateway } from './stripe.ts'

// A settling bank debit can take days: asked again with backoff for about a day before the job is
// dead (and listed by `bun run jobs`).
const RECONCILE_RETRY = { attempts: 30, backoff: { initialMs: 60_000, maxMs: 3_600_000 } }

/** The key of the reconciliation of a payment that is settling (the first one's key is the payment id). */
const SETTLING = '/settling'
const paymentIdOf = (key: string) => (key.endsWith(SETTLING) ? key.slice(0, -SETTLING.length) : key)

/** A payment still waiting after reconciliation asked Stripe: retried later. */
class StillOpen extends Error {
  override readonly name = 'StillOpen'
}

export function paymentJobs(
  store: Store<typeof schema>,
  book: PaymentBook,
  stripe: StripeGateway,
  log: Logger,
): JobKinds<typeof schema> {
  const paymentOf = (id: string) => paymentIn(store.db, id)
  return {
    // The order ended while its Checkout Session was open: expire it, so nobody pays for it.
    [EXPIRE_SESSION_JOB]: defineJob<typeof schema, undefined, Session | null>({
      async perform(job) {
        const p = paymentOf(job.key)
        if (!p?.stripeSessionId) return null
        try {
          return await stripe.expireSession(p.stripeSessionId, p.id)
        } catch (err) {
          // Already completed or expired at Stripe: its webhook says how, nothing to expire.
          if (!isTransient(err)) return null
          throw err
        }
      },
      record(job, _session, t) {
        const p = paymentIn(t.db, job.key)
        if (p && (p.status === 'pending' || p.status === 'creating')) book.apply(t, p, 'expired')
      },
    }),
    // A refund at Stripe; the refund's id is its idempotency key, so a second run refunds nothing twice.
    [REFUND_JOB]: defineJob<typeof schema, undefined, string>({
      async perform(job) {
        const refund = store.db.select().from(refunds).where(eq(refunds.id, job.key)).get()
        if (!refund) throw new PermanentError('no such refund')
        const p = paymentOf(refund.paymentId)
        let intent = p?.stripePaymentIntentId ?? null
        if (!intent && p?.stripeSessionId) {
          const session = await stripe.retrieveSession(p.stripeSessionId)
          intent =
            typeof session.payment_intent === 'string'
              ? session.payment_intent
              : (session.payment_intent?.id ?? null)
        }
        if (!intent) throw new PermanentError('the payment has no payment intent at Stripe to refund')
        const made = await stripe.refund(
          intent,
          refund.amount,
          refund.id,
          refund.reason === 'duplicate' ? 'duplicate' : undefined,
        )
        return made.id
      },
      record(job, stripeRefundId, t) {
        const refund = t.db.select().from(refunds).where(eq(refunds.id, job.key)).get()
        if (refund) book.refunded(t, refund, stripeRefundId)
      },
    }),
    // No webhook settled the payment by the time its session expired: ask Stripe. A session still
    // open, or a payment still settling, is asked again later (the job's retries).
    [RECONCILE_JOB]: defineJob<typeof schema, undefined, Session | null>({
      retry: RECONCILE_RETRY,
      async perform(job) {
        const p = paymentOf(paymentIdOf(job.key))
        if (!p?.stripeSessionId) throw new PermanentError('no such payment, or it has no session')
        // Settled meanwhile (a webhook, the success page): nothing to ask Stripe.
        if (!['creating', 'pending', 'processing'].includes(p.status)) return null
        const session = await stripe.retrieveSession(p.stripeSessionId)
        if (session.id !== p.stripeSessionId) throw new PermanentError('Stripe answered another session')
        const settling = session.status === 'complete' && session.payment_status === 'unpaid'
        if (session.status === 'open' || (settling && p.status === 'processing')) {
          throw new StillOpen(`the session is ${session.status}, its payment ${session.payment_status}`)
        }
        return session
      },
      record(job, session, t) {
        if (!session) return
        const p = settle(t, book, log, session)
        // Settling now: asked again later, under a key of its own (this one is running).
        if (p?.status === 'processing' && !job.key.endsWith(SETTLING)) {
          t.schedule(RECONCILE_JOB, {
            key: `${p.id}${SETTLING}`,
            at: Date.now() + RECONCILE_RETRY.backoff.initialMs,
          })
        }
      },
    }),
  }
}
