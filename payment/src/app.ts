import {
  authGuards,
  BodyInteger,
  createHttpApp,
  httpSettings,
  IdempotencyKeyHeader,
  LiteralUnion,
  type Logger,
  notFound,
  PageAnswer,
  paymentMethods,
  problems,
  replayResponse,
  SingleLineText,
  strictBody,
  type TokenVerifier,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { type AdminActions, NO_PAYMENT } from './admin.ts'
import type { Checkout } from './checkout.ts'
import type { PaymentConfig } from './config.ts'
import { page, type ReturnPages } from './pages.ts'
import { type PaymentReads, paymentPages } from './reads.ts'
import { paymentStatuses } from './transitions.ts'
import { PaymentView, viewOf } from './view.ts'
import type { StripeWebhooks } from './webhooks.ts'

const Id = Type.String({ minLength: 1, maxLength: 64 })
const ByPayment = { params: Type.Object({ id: Id }) }
const SessionQuery = { query: Type.Object({ session_id: Type.String({ minLength: 1, maxLength: 255 }) }) }
const ReturnAnswer = Type.Object({
  paymentId: Type.Union([Type.String(), Type.Null()]),
  paymentStatus: Type.Union([Type.String(), Type.Null()]),
  orderId: Type.Union([Type.String(), Type.Null()]),
  orderNumber: Type.Union([Type.String(), Type.Null()]),
  orderStatus: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
})
// The pages answer a browser with HTML and a client that asks for JSON with JSON: both documented.
const pageResponses = {
  200: {
    description: 'How the payment and its order stand',
    content: {
      'text/html': { schema: { type: 'string' as const } },
      // A TypeBox schema is JSON Schema; its TypeScript type is not the OpenAPI one.
      'application/json': { schema: ReturnAnswer as unknown as { type: 'object' } },
    },
  },
}
const wantsJson = (request: Request) => (request.headers.get('accept') ?? '').includes('application/json')

export interface AppDeps {
  config: Static<typeof PaymentConfig>
  log: Logger
  checkout: Checkout
  webhooks: StripeWebhooks
  pages: ReturnPages
  reads: PaymentReads
  admin: AdminActions
  verifier: TokenVerifier
  ready: () => boolean
}

export function buildApp({ config, log, checkout, webhooks, pages, reads, admin, verifier, ready }: AppDeps) {
  // Always a Response: a page to a browser, JSON to a client that asks for it.
  const answerPage = (request: Request, a: Awaited<ReturnType<ReturnPages['success']>>) =>
    wantsJson(request)
      ? Response.json(a, { headers: { 'cache-control': 'no-store' } })
      : new Response(page(a), {
          headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
        })

  return createHttpApp({
    service: 'payment',
    log,
    ready,
    ...httpSettings(config),
    title: 'Mart payment service',
    description:
      "Pay an unpaid order with Stripe Checkout or cash on delivery. The amount is always the order's. Stripe's " +
      'webhook, the success page and reconciliation settle a payment, whichever comes first; money for an order ' +
      'that ended is refunded automatically.',
  })
    .use(authGuards(verifier))
    .post(
      '/api/payments',
      async ({ user, body, headers, query, trace }): Promise<Response> => {
        const paid = await checkout.pay(user, body, headers['idempotency-key'], trace)
        if (paid.replayed) return replayResponse(paid, `/api/payments/${paid.resourceId}`)
        const redirect = query.redirect === true && paid.view.checkoutUrl
        return Response.json(paid.view, {
          status: redirect ? 303 : paid.status,
          headers: {
            location: redirect ? (paid.view.checkoutUrl as string) : `/api/payments/${paid.view.id}`,
          },
        })
      },
      {
        requireUser: true,
        headers: Type.Object({ ...IdempotencyKeyHeader }),
        query: Type.Object({
          redirect: Type.Optional(Type.Boolean({ description: "true: a 303 to Stripe's checkout page" })),
        }),
        ...strictBody(
          Type.Object({ orderId: Id, method: LiteralUnion(paymentMethods) }, { additionalProperties: false }),
        ),
        response: { 200: PaymentView, 201: PaymentView, 303: PaymentView, ...problems(404, 409, 422, 503) },
        detail: {
          tags: ['payments'],
          summary:
            'Pay an unpaid order: a Stripe Checkout Session (checkoutUrl) or cash on delivery. The open payment again (200) rather than a second one',
        },
      },
    )
    .post(
      '/api/payments/webhooks/stripe',
      ({ body, headers }) => webhooks.receive(body, headers['stripe-signature'] ?? null),
      {
        type: 'text',
        body: Type.String({ description: 'the event as Stripe sent it: the signature is over these bytes' }),
        headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String({ maxLength: 2000 })) }),
        response: {
          200: Type.Object({ received: Type.Boolean(), duplicate: Type.Boolean() }),
          ...problems(400),
        },
        detail: {
          tags: ['stripe'],
          summary:
            "Stripe's webhook: verified by its signature (400 otherwise), applied once, acknowledged after",
        },
      },
    )
    .get(
      '/api/payments/stripe/success',
      async ({ query, request }) => answerPage(request, await pages.success(query.session_id)),
      {
        ...SessionQuery,
        detail: {
          responses: pageResponses,
          tags: ['stripe'],
          summary:
            'Where Stripe sends the customer after paying: settles the payment from Stripe and says how the order stands (HTML, or JSON)',
        },
      },
    )
    .get(
      '/api/payments/stripe/cancel',
      ({ query, request }) => answerPage(request, pages.cancel(query.session_id)),
      {
        ...SessionQuery,
        detail: {
          responses: pageResponses,
          tags: ['stripe'],
          summary: 'Where Stripe sends a customer who left the checkout (HTML, or JSON)',
        },
      },
    )
    .get('/api/payments', ({ user, query }) => reads.list(user, query), {
      requireUser: true,
      query: Type.Object({
        ...paymentPages.query,
        orderId: Type.Optional(Id),
        status: Type.Optional(LiteralUnion(paymentStatuses)),
      }),
      response: { 200: PageAnswer(PaymentView) },
      detail: { tags: ['payments'], summary: "Your payments, newest first (an admin: everyone's)" },
    })
    .get(
      '/api/payments/:id',
      ({ user, params }) => {
        const p = reads.one(user, params.id)
        if (!p) throw notFound(NO_PAYMENT)
        return viewOf(p)
      },
      {
        requireUser: true,
        ...ByPayment,
        response: { 200: PaymentView },
        detail: { tags: ['payments'], summary: 'One payment (its owner or an admin)' },
      },
    )
    .post('/api/payments/:id/collect', ({ params, trace }) => admin.collect(params.id, trace), {
      requireAdmin: true,
      ...ByPayment,
      response: { 200: PaymentView, ...problems(409) },
      detail: { tags: ['admin'], summary: 'Cash on delivery collected: the order records it paid' },
    })
    .post(
      '/api/payments/:id/refund',
      ({ params, body, trace, set }) => {
        const { view, done } = admin.refund(params.id, body ?? {}, trace)
        set.status = done ? 200 : 202
        return view
      },
      {
        requireAdmin: true,
        ...ByPayment,
        ...strictBody(
          Type.Optional(
            Type.Object(
              {
                amount: Type.Optional(
                  BodyInteger({ minimum: 1, description: 'minor units; all that is left by default' }),
                ),
                reason: Type.Optional(SingleLineText({ maxLength: 500 })),
              },
              { additionalProperties: false },
            ),
          ),
        ),
        response: { 200: PaymentView, 202: PaymentView, ...problems(409, 422) },
        detail: {
          tags: ['admin'],
          summary:
            'Refund in full or in part: through Stripe (202, payment.refunded once made) or in cash (200)',
        },
      },
    )
}
