import {
  authGuards,
  createHttpApp,
  eventStreamContent,
  forbidden,
  httpSettings,
  IdempotencyKeyHeader,
  keepStreamOpen,
  LiteralUnion,
  type Logger,
  notFound,
  PageAnswer,
  problems,
  QueryInteger,
  replayResponse,
  SingleLineText,
  strictBody,
  type TokenVerifier,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { type Commands, NO_ORDER } from './commands.ts'
import type { OrderConfig } from './config.ts'
import { PlaceOrder, type Placing } from './placing.ts'
import { type OrderReads, orderPages } from './reads.ts'
import type { OrderStreams } from './stream.ts'
import { orderStatuses } from './transitions.ts'
import { OrderView } from './view.ts'

const OrderId = Type.String({ minLength: 1, maxLength: 64 })
const ByOrder = { params: Type.Object({ id: OrderId }) }

const TimelineEntry = Type.Object({
  type: Type.String({ description: 'the event type, or the command or job (order.cancel, order.expire)' }),
  source: Type.String({ description: 'the service it came from' }),
  eventId: Type.Union([Type.String(), Type.Null()], {
    description: 'the event consumed; for a command or job, the event it emitted',
  }),
  causationId: Type.Union([Type.String(), Type.Null()]),
  actorId: Type.Union([Type.String(), Type.Null()], { description: 'who acted, for a command' }),
  at: Type.String({ format: 'date-time' }),
  from: Type.Union([LiteralUnion(orderStatuses), Type.Null()]),
  to: Type.Union([LiteralUnion(orderStatuses), Type.Null()]),
  outcome: LiteralUnion(['moved', 'ignored'] as const),
  reason: Type.Union([Type.String(), Type.Null()], {
    description: 'why it was ignored; for a cancellation, the reason given',
  }),
  emitted: Type.Array(Type.Object({ type: Type.String(), id: Type.String() })),
})

export interface AppDeps {
  config: Static<typeof OrderConfig>
  log: Logger
  placing: Placing
  reads: OrderReads
  commands: Commands
  streams: OrderStreams
  verifier: TokenVerifier
  ready: () => boolean
}

export function buildApp({ config, log, placing, reads, commands, streams, verifier, ready }: AppDeps) {
  const location = (id: string) => `/api/orders/${id}`

  return createHttpApp({
    service: 'order',
    log,
    ready,
    ...httpSettings(config),
    title: 'Mart order service',
    description:
      'Orders with lines priced from the catalogue, and their saga: pending until inventory holds every line, ' +
      'unpaid until payment, then shipped and delivered. Follow one live with its stream, or read its timeline.',
  })
    .use(authGuards(verifier))
    .post(
      '/api/orders',
      ({ user, body, headers, trace, set }) => {
        const placed = placing.place(user, body, headers['idempotency-key'], trace)
        if (placed.replayed) return replayResponse(placed.answer, location(placed.answer.resourceId))
        set.status = 202
        set.headers.location = location(placed.view.id)
        return placed.view
      },
      {
        requireUser: true,
        headers: Type.Object({ ...IdempotencyKeyHeader }),
        ...strictBody(PlaceOrder),
        response: { 202: OrderView, ...problems(422) },
        detail: {
          tags: ['orders'],
          summary:
            'Place an order: priced from the catalogue, answered pending (202) while inventory reserves it',
        },
      },
    )
    .get(
      '/api/orders',
      ({ user, query }) => {
        if (user.role !== 'admin' && query.userId !== undefined && query.userId !== user.id) {
          throw forbidden("only an admin lists another user's orders")
        }
        return reads.list(user, query)
      },
      {
        requireUser: true,
        query: Type.Object({
          ...orderPages.query,
          status: Type.Optional(LiteralUnion(orderStatuses)),
          userId: Type.Optional(
            Type.String({ minLength: 1, maxLength: 64, description: 'admin: one user only' }),
          ),
        }),
        response: { 200: PageAnswer(OrderView) },
        detail: {
          tags: ['orders'],
          summary: "Your orders, newest first (an admin: everyone's, or one user's); keyset pagination",
        },
      },
    )
    .get(
      '/api/orders/:id',
      ({ user, params }) => {
        const order = reads.row(user, params.id)
        if (!order) throw notFound(NO_ORDER)
        return reads.view(order)
      },
      {
        requireUser: true,
        ...ByOrder,
        response: { 200: OrderView },
        detail: { tags: ['orders'], summary: 'One order (its owner or an admin; anyone else: 404)' },
      },
    )
    .get(
      '/api/orders/:id/stream',
      ({ user, params, headers, request, server }) =>
        // A stream outlasts the listener's idle timeout (server is null embedded: that listener sees to it).
        keepStreamOpen(
          server,
          request,
          streams.stream({ request, user, orderId: params.id, lastEventId: headers['last-event-id'] }),
        ),
      {
        requireUser: true,
        ...ByOrder,
        headers: Type.Object({
          'last-event-id': Type.Optional(
            QueryInteger({
              minimum: 0,
              description:
                'The last version received (a reconnecting EventSource sends it): only later versions are sent',
            }),
          ),
        }),
        detail: {
          tags: ['orders'],
          summary:
            'Follow an order live (Server-Sent Events): its view on every change, ending after a final state',
          description:
            'Each event is `id: <version>`, `event: order`, `data: <the order, as GET /api/orders/{id} answers it>`. ' +
            'On connect: every version after Last-Event-ID (all of them without it), then each new one as it ' +
            'commits, in version order; the stream ends after a delivered, rejected, cancelled or expired ' +
            'version, and a reconnect that already has it gets 204. A `: keep-alive` comment comes every 15 s. ' +
            'The stream also ends when the token expires or is revoked (reconnect with a fresh one) and when ' +
            'the service stops. At most 5 open streams per user (429 beyond, with Retry-After).',
          responses: {
            200: {
              description: 'The event stream',
              content: eventStreamContent(
                'order',
                'retry: 3000\n\nid: 1\nevent: order\ndata: {"id":"...","status":"pending",...}\n\n',
              ),
            },
            204: { description: 'The client has the final version already: nothing more will come' },
            429: { description: 'Too many open streams' },
            503: { description: 'The service is stopping' },
          },
        },
      },
    )
    .get(
      '/api/orders/:id/timeline',
      ({ user, params }) => {
        if (!reads.row(user, params.id)) throw notFound(NO_ORDER)
        return { items: reads.timeline(params.id) }
      },
      {
        requireUser: true,
        ...ByOrder,
        response: { 200: Type.Object({ items: Type.Array(TimelineEntry) }) },
        detail: {
          tags: ['orders'],
          summary:
            'Everything that touched the order, in order: events, commands and the expiry job, with the state change each made or why it was ignored',
        },
      },
    )
    .post(
      '/api/orders/:id/cancel',
      ({ user, params, body, trace }) => commands.cancel(user, params.id, body?.reason, trace),
      {
        requireUser: true,
        ...ByOrder,
        ...strictBody(
          Type.Optional(
            Type.Object(
              { reason: Type.Optional(SingleLineText({ maxLength: 500 })) },
              { additionalProperties: false },
            ),
          ),
        ),
        response: { 200: OrderView, ...problems(409) },
        detail: {
          tags: ['orders'],
          summary:
            'Cancel: the owner while pending, unpaid or confirmed; an admin also while paid (then refunded). 409 otherwise',
        },
      },
    )
    .post('/api/orders/:id/ship', ({ user, params, trace }) => commands.ship(user, params.id, trace), {
      requireAdmin: true,
      ...ByOrder,
      response: { 200: OrderView, ...problems(409) },
      detail: { tags: ['admin'], summary: 'Mark a paid or confirmed order shipped (409 otherwise)' },
    })
    .post('/api/orders/:id/deliver', ({ user, params, trace }) => commands.deliver(user, params.id, trace), {
      requireAdmin: true,
      ...ByOrder,
      response: { 200: OrderView, ...problems(409) },
      detail: { tags: ['admin'], summary: 'Mark a shipped order delivered (409 otherwise)' },
    })
}
