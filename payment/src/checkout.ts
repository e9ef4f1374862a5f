// POST /api/payments: pay an unpaid order with Stripe Checkout or cash on delivery. The amount is
// the order's, never the client's. Stripe is called outside any transaction: the payment row is
// written first (`creating`), the session after (`pending`); a failed call undoes the first write,
// and a crash between the two leaves a row the next request (or its retry) completes with the same
// Stripe idempotency key.
import {
  claimIdempotencyKey,
  conflict,
  errorMessage,
  type IdempotentAnswer,
  keepIdempotentAnswer,
  type Logger,
  notFound,
  onceFor,
  type PaymentMethod,
  type Principal,
  requestContext,
  requestHash,
  type Store,
  type TraceContext,
  tx,
} from '@mart/shared'
import type { Static } from '@sinclair/typebox'
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { PaymentConfig } from './config.ts'
import type * as schema from './db/schema.ts'
import { payments } from './db/schema.ts'
import { type OrderRow, orderIn, type PricedLine } from './orders.ts'
import { type PaymentBook, type PaymentRow, RECONCILE_JOB } from './payments.ts'
import {
  isTransient,
  SESSION_MAX_MS,
  SESSION_MIN_MS,
  type StripeGateway,
  stripeUnavailable,
} from './stripe.ts'
import { openStatuses } from './transitions.ts'
import { type PaymentView, viewOf } from './view.ts'

export const NO_ORDER = 'no such order'

/** What the route answers: a payment (201 new, 200 the open one again), or an earlier answer replayed. */
export type Paid =
  | { replayed: false; status: 200 | 201; view: PaymentView }
  | ({ replayed: true } & IdempotentAnswer)

// A minute of margin over Stripe's 30 minutes: the request takes time to reach it.
const MIN_AHEAD = SESSION_MIN_MS + 60_000

/** When the session should expire: with the order's reservation, within what Stripe accepts. */
export const sessionExpiry = (orderExpiresAt: number | null, now: number) =>
  Math.min(Math.max(orderExpiresAt ?? now + MIN_AHEAD, now + MIN_AHEAD), now + SESSION_MAX_MS - 60_000)

const p = sql.placeholder
/** Prepared once per database: every payment asked for runs them. set() takes SQL, not placeholders. */
const statements = onceFor((db: Store<typeof schema>['db']) => ({
  openOf: db
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, p('orderId')), inArray(payments.status, [...openStatuses])))
    .prepare(),
  insert: db
    .insert(payments)
    .values({
      id: p('id'),
      orderId: p('orderId'),
      userId: p('userId'),
      method: p('method'),
      status: p('status'),
      amount: p('amount'),
      currency: p('currency'),
      createdAt: p('now'),
      updatedAt: p('now'),
    })
    .returning()
    .prepare(),
  storeSession: db
    .update(payments)
    .set({
      stripeSessionId: sql`${p('sessionId')}`,
      checkoutUrl: sql`${p('url')}`,
      expiresAt: sql`${p('expiresAt')}`,
      updatedAt: sql`${p('updatedAt')}`,
    })
    .where(eq(payments.id, p('id')))
    .returning()
    .prepare(),
}))

export class Checkout {
  constructor(
    private readonly store: Store<typeof schema>,
    private readonly book: PaymentBook,
    private readonly stripe: StripeGateway,
    private readonly config: Static<typeof PaymentConfig>,
    private readonly log: Logger,
  ) {}

  async pay(
    user: Principal,
    body: { orderId: string; method: PaymentMethod },
    key: string | undefined,
    trace?: TraceContext,
  ): Promise<Paid> {
    const hash = key === undefined ? '' : requestHash(body)
    const context = requestContext(trace)
    const first = tx(
      this.store,
      (t): Paid | { create: PaymentRow; order: OrderRow } => {
        const now = Date.now()
        const order = orderIn(t.db, body.orderId)
        if (!order || order.userId !== user.id) throw notFound(NO_ORDER)
        const open = statements(t.db).openOf.get({ orderId: order.id })
        const id = open?.id ?? Bun.randomUUIDv7()
        if (key !== undefined) {
          const earlier = claimIdempotencyKey(this.store, { userId: user.id, key, hash, resourceId: id, now })
          // An answer kept: replayed. One not kept yet (a request that died half-way): done again.
          if (earlier && earlier.status !== 0) return { replayed: true, ...earlier }
        }
        if (open) {
          if (open.method !== body.method) {
            throw conflict(
              `this order is already being paid ${open.method === 'cod' ? 'on delivery' : 'by card'}`,
            )
          }
          // The same payment again, not a second session; a `creating` one is completed below.
          if (open.status !== 'creating')
            return this.answered(user, key, { replayed: false, status: 200, view: viewOf(open) })
          return { create: open, order }
        }
        if (order.state === 'paid') throw conflict('the order is paid already')
        if (order.state !== 'unpaid')
          throw conflict(`the order is ${order.state}: only an unpaid order can be paid`)
        if (body.method === 'stripe' && !this.stripe.configured) {
          throw stripeUnavailable(
            'card payments are not set up here (no STRIPE_SECRET_KEY); cash on delivery works',
          )
        }
        const row = statements(t.db).insert.get({
          id,
          orderId: order.id,
          userId: user.id,
          method: body.method,
          status: body.method === 'cod' ? 'cod_pending' : 'creating',
          amount: order.totalAmount,
          currency: order.currency,
          now,
        }) as PaymentRow
        if (body.method === 'stripe') return { create: row, order }
        t.publish(
          'payment.cod_selected',
          {
            paymentId: row.id,
            orderId: row.orderId,
            userId: row.userId,
            amount: { amount: row.amount, currency: row.currency },
          },
          { subject: row.orderId },
        )
        return this.answered(user, key, { replayed: false, status: 201, view: viewOf(row) })
      },
      context,
    )
    if (!('create' in first)) return first
    return this.openSession(user, first.create, first.order, key, context)
  }

  /** Creates the Checkout Session for a `creating` payment, then records it: `pending`. */
  private async openSession(
    user: Principal,
    p: PaymentRow,
    order: OrderRow,
    key: string | undefined,
    context: ReturnType<typeof requestContext>,
  ): Promise<Paid> {
    const now = Date.now()
    const expiresAt = sessionExpiry(order.expiresAt, now)
    const lines = JSON.parse(order.lines) as PricedLine[]
    let session: Awaited<ReturnType<StripeGateway['createSession']>>
    try {
      session = await this.stripe.createSession({
        paymentId: p.id,
        orderId: order.id,
        orderNumber: order.number,
        currency: p.currency,
        lines: lines.map((l) => ({ name: l.name, quantity: l.quantity, unitAmount: l.unitPrice.amount })),
        expiresAt,
        successUrl: `${this.config.PUBLIC_URL}/api/payments/stripe/success`,
        cancelUrl: `${this.config.PUBLIC_URL}/api/payments/stripe/cancel`,
      })
    } catch (err) {
      // Nothing half-done: the row goes, and the key with it (unless a webhook already moved it).
      tx(this.store, (t) => {
        t.db
          .delete(payments)
          .where(and(eq(payments.id, p.id), eq(payments.status, 'creating')))
          .run()
      })
      const error = err instanceof Error ? err.name : 'unknown'
      if (isTransient(err)) {
        this.log.warn({ paymentId: p.id, error }, 'Stripe could not create the Checkout Session')
        throw stripeUnavailable('Stripe did not answer; try again shortly')
      }
      // Stripe's message names the parameter it refused: for the log, never for the client.
      this.log.error(
        { paymentId: p.id, error, message: errorMessage(err) },
        'Stripe refused the Checkout Session',
      )
      throw stripeUnavailable('Stripe refused to open a checkout for this order')
    }
    return tx(
      this.store,
      (t) => {
        const stored = statements(t.db).storeSession.get({
          id: p.id,
          sessionId: session.id,
          url: session.url,
          expiresAt,
          updatedAt: Date.now(),
        })
        if (!stored) throw notFound('the payment is gone')
        // A webhook may have settled it already (it finds the payment by client_reference_id).
        const now = stored.status === 'creating' ? this.book.apply(t, stored, 'session_opened') : stored
        // If no webhook settles it, Stripe is asked how it ended a little after it expires.
        t.schedule(RECONCILE_JOB, {
          key: p.id,
          at: expiresAt + this.config.STRIPE_RECONCILE_AFTER_SECONDS * 1000,
        })
        return this.answered(user, key, { replayed: false, status: 201, view: viewOf(now) })
      },
      context,
    )
  }

  /** Keeps the answer for the request's Idempotency-Key (inside the caller's transaction). */
  private answered(user: Principal, key: string | undefined, paid: Paid & { replayed: false }): Paid {
    if (key !== undefined) {
      keepIdempotentAnswer(this.store, user.id, key, { status: paid.status, body: JSON.stringify(paid.view) })
    }
    return paid
  }
}
