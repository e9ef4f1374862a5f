import type { Store } from '@mart/shared'
import {
  authGuards,
  BodyInteger,
  createHttpApp,
  eventStreamContent,
  httpSettings,
  keepStreamOpen,
  LiteralUnion,
  type Logger,
  MultiLineText,
  NoContent,
  PageAnswer,
  problems,
  SingleLineText,
  strictBody,
  type TokenVerifier,
  validationProblem,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { announce } from './announcements.ts'
import { categories } from './categories.ts'
import type { NotificationChanges } from './changes.ts'
import type { NotificationConfig } from './config.ts'
import type * as schema from './db/schema.ts'
import { type Inbox, notificationPages, viewOf } from './inbox.ts'
import { deliveryPages, deliveryStatuses, type Ledger } from './ledger.ts'
import type { NotificationStreams } from './stream.ts'

const Id = Type.String({ minLength: 1, maxLength: 64 })
const ById = { params: Type.Object({ id: Id }) }
const nullable = <S extends ReturnType<typeof Type.String>>(s: S) => Type.Union([s, Type.Null()])

const Notification = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  category: LiteralUnion(categories),
  notice: Type.String({ description: 'which notice it is (order-received, admin-low-stock...)' }),
  title: Type.String(),
  body: Type.String(),
  subject: nullable(Type.String({ description: 'what it is about: an order id, a product id' })),
  read: Type.Boolean(),
  readAt: nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
})
const Preference = Type.Object({ email: Type.Boolean(), inApp: Type.Literal(true) })
const Delivery = Type.Object({
  id: Type.String(),
  status: LiteralUnion(deliveryStatuses),
  notice: Type.String(),
  to: Type.String(),
  userId: nullable(Type.String()),
  subject: Type.String(),
  messageId: Type.String(),
  eventId: Type.String(),
  attempts: BodyInteger(),
  lastError: nullable(Type.String()),
  nextAttemptAt: nullable(Type.String({ format: 'date-time' })),
  sentAt: nullable(Type.String({ format: 'date-time' })),
  response: nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
})
const QueryBoolean = Type.Boolean()

export interface AppDeps {
  config: Static<typeof NotificationConfig>
  log: Logger
  store: Store<typeof schema>
  inbox: Inbox
  ledger: Ledger
  changes: NotificationChanges
  streams: NotificationStreams
  verifier: TokenVerifier
  ready: () => boolean
}

export function buildApp({ config, log, store, inbox, ledger, changes, streams, verifier, ready }: AppDeps) {
  return createHttpApp({
    service: 'notification',
    log,
    ready,
    ...httpSettings(config),
    title: 'Mart notification service',
    description:
      'In-app notifications (each person their own; admins everyone’s) and the email sent for them: each email ' +
      'once per event and recipient, retried while the mail server is away, listed for admins.',
  })
    .use(authGuards(verifier))
    .get('/api/notifications', ({ user, query }) => inbox.list(user, query), {
      requireUser: true,
      query: Type.Object({
        ...notificationPages.query,
        unread: Type.Optional(QueryBoolean),
        userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'admin: one user’s' })),
        all: Type.Optional(Type.Boolean({ description: 'admin: everyone’s' })),
      }),
      response: { 200: PageAnswer(Notification) },
      detail: {
        tags: ['notifications'],
        summary: 'Your notifications, newest first (unread=true: only unread)',
      },
    })
    .get('/api/notifications/unread-count', ({ user }) => ({ count: inbox.unreadCount(user) }), {
      requireUser: true,
      response: { 200: Type.Object({ count: BodyInteger() }) },
      detail: { tags: ['notifications'], summary: 'How many of your notifications are unread' },
    })
    .post('/api/notifications/read-all', ({ user }) => ({ marked: inbox.markAllRead(user) }), {
      requireUser: true,
      response: { 200: Type.Object({ marked: BodyInteger() }) },
      detail: { tags: ['notifications'], summary: 'Mark all your notifications read' },
    })
    .get('/api/notifications/preferences', ({ user }) => inbox.preferences(user), {
      requireUser: true,
      response: { 200: Type.Record(Type.String(), Preference) },
      detail: { tags: ['notifications'], summary: 'Email on or off per category (in-app is always on)' },
    })
    .patch('/api/notifications/preferences', ({ user, body }) => inbox.setPreferences(user, body), {
      requireUser: true,
      ...strictBody(
        Type.Partial(
          Type.Object(
            Object.fromEntries(
              categories.map((c) => [
                c,
                Type.Object({ email: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
              ]),
            ),
            { additionalProperties: false },
          ),
        ),
      ),
      response: { 200: Type.Record(Type.String(), Preference), ...problems(403) },
      detail: {
        tags: ['notifications'],
        summary: 'Turn email on or off per category: account, orders, payments (admins also stock, review)',
      },
    })
    .get('/api/notifications/deliveries', ({ query }) => ledger.list(query), {
      requireAdmin: true,
      query: Type.Object({ ...deliveryPages.query, status: Type.Optional(LiteralUnion(deliveryStatuses)) }),
      response: { 200: PageAnswer(Delivery) },
      detail: {
        tags: ['admin'],
        summary: 'The email ledger: each email and where it stands (sent, queued, retrying, dead)',
      },
    })
    .post('/api/notifications/deliveries/:id/retry', ({ params }) => ledger.retry(params.id), {
      requireAdmin: true,
      ...ById,
      response: { 200: Delivery, ...problems(409) },
      detail: { tags: ['admin'], summary: 'Send an email that was not sent again, now, with a fresh budget' },
    })
    .post(
      '/api/notifications',
      ({ body, set }) => {
        const targets = [body.userId !== undefined, body.role !== undefined].filter(Boolean).length
        if (targets !== 1) {
          throw validationProblem([{ path: '/body', message: 'name exactly one of userId and role' }])
        }
        set.status = 201
        return announce(store, changes, body)
      },
      {
        requireAdmin: true,
        ...strictBody(
          Type.Object(
            {
              userId: Type.Optional(Id),
              role: Type.Optional(LiteralUnion(['user', 'admin', 'all'] as const)),
              title: SingleLineText({ minLength: 1, maxLength: 200 }),
              body: MultiLineText({ minLength: 1, maxLength: 5000 }),
              email: Type.Optional(Type.Boolean({ description: 'also by email (default false)' })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 201: Type.Object({ notified: BodyInteger(), emailed: BodyInteger() }), ...problems(404) },
        detail: {
          tags: ['admin'],
          summary: 'An announcement to one user, a role or everyone; in-app, and by email if asked',
        },
      },
    )
    .get(
      '/api/notifications/stream',
      ({ user, headers, request, server }) =>
        // A stream outlasts the listener's idle timeout (server is null embedded: that listener sees to it).
        keepStreamOpen(
          server,
          request,
          streams.stream({ request, user, lastEventId: headers['last-event-id'] }),
        ),
      {
        requireUser: true,
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({
              pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
              description:
                'The id of the last notification received (a reconnecting EventSource sends it): only later ones are sent',
            }),
          ),
        }),
        detail: {
          tags: ['notifications'],
          summary: 'Your new notifications, live (Server-Sent Events)',
          description:
            'Each event is `id: <notification id>`, `event: notification`, `data: <the notification, as ' +
            'GET /api/notifications/{id} answers it>`; ids are uuid v7, so later is greater. The stream opens ' +
            'with `retry: 3000` and an `id:` line without an event (where it starts), then sends every ' +
            'notification of yours written after Last-Event-ID (without it: from now on), oldest first, then ' +
            'each new one as it is written. A `: keep-alive` comment comes every 15 s. The stream ends when the ' +
            'token expires or is revoked (reconnect with a fresh one) and when the service stops. At most 5 ' +
            'open streams per user (429 beyond, with Retry-After).',
          responses: {
            200: {
              description: 'The event stream',
              content: eventStreamContent(
                'notification',
                'retry: 3000\n\nid: 0198...\n\nid: 0198...\nevent: notification\ndata: {"id":"0198...","title":"Order MRT-... received",...}\n\n',
              ),
            },
            429: { description: 'Too many open streams' },
            503: { description: 'The service is stopping' },
          },
        },
      },
    )
    .get('/api/notifications/:id', ({ user, params }) => viewOf(inbox.one(user, params.id)), {
      requireUser: true,
      ...ById,
      response: { 200: Notification },
      detail: { tags: ['notifications'], summary: 'One notification (yours; an admin: anyone’s)' },
    })
    .post('/api/notifications/:id/read', ({ user, params }) => inbox.markRead(user, params.id), {
      requireUser: true,
      ...ById,
      response: { 200: Notification },
      detail: { tags: ['notifications'], summary: 'Mark one read' },
    })
    .delete(
      '/api/notifications/:id',
      ({ user, params, set }) => {
        inbox.remove(user, params.id)
        set.status = 204
      },
      {
        requireUser: true,
        ...ById,
        response: NoContent,
        detail: { tags: ['notifications'], summary: 'Delete one (yours; an admin: anyone’s)' },
      },
    )
}
