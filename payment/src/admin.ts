// What an admin does to a payment: mark cash on delivery collected, and give money back.
import {
  conflict,
  found,
  requestContext,
  type Store,
  type TraceContext,
  tx,
  validationProblem,
} from '@mart/shared'
import type * as schema from './db/schema.ts'
import { type PaymentBook, paymentIn } from './payments.ts'
import { type PaymentView, viewOf } from './view.ts'

export const NO_PAYMENT = 'no such payment'

export class AdminActions {
  constructor(
    private readonly store: Store<typeof schema>,
    private readonly book: PaymentBook,
  ) {}

  /** The courier collected the cash: payment.succeeded (the order records it as paid). */
  collect(paymentId: string, trace?: TraceContext): PaymentView {
    return tx(
      this.store,
      (t) => {
        const p = found(paymentIn(t.db, paymentId), NO_PAYMENT)
        if (p.status !== 'cod_pending')
          throw conflict(
            `the payment is ${p.status}: only cash on delivery waiting for collection can be collected`,
          )
        return viewOf(this.book.apply(t, p, 'collected'))
      },
      requestContext(trace),
    )
  }

  /**
   * Gives back `amount` (all that is left by default): at Stripe by a job, in cash at once.
   * Answers the payment and whether the refund is done already.
   */
  refund(
    paymentId: string,
    body: { amount?: number | undefined; reason?: string | undefined },
    trace?: TraceContext,
  ): { view: PaymentView; done: boolean } {
    return tx(
      this.store,
      (t) => {
        const p = found(paymentIn(t.db, paymentId), NO_PAYMENT)
        if (p.status !== 'succeeded' && p.status !== 'needs_review') {
          throw conflict(`the payment is ${p.status}: only money received can be refunded`)
        }
        const left = p.amount - p.refundedAmount
        if (left === 0) throw conflict('the payment is refunded in full already')
        const amount = body.amount ?? left
        if (amount > left) {
          throw validationProblem([
            { path: '/body/amount', message: `is more than is left to refund (${left})` },
          ])
        }
        const refund = this.book.requestRefund(t, p, amount, 'requested', body.reason)
        return {
          view: viewOf(found(paymentIn(t.db, paymentId), NO_PAYMENT)),
          done: refund.status === 'succeeded',
        }
      },
      requestContext(trace),
    )
  }
}
