import {
  authGuards,
  BodyInteger,
  createHttpApp,
  found,
  httpSettings,
  LiteralUnion,
  type Logger,
  mapPage,
  PageAnswer,
  problems,
  stockItemStatuses,
  type TokenVerifier,
  validationProblem,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import type { InventoryConfig } from './config.ts'
import { NO_ITEM, type Stock, stockPages, view } from './stock.ts'

// Product ids come from the product service; the catalog bounds them like every event id.
const ProductId = Type.String({ minLength: 1, maxLength: 64 })
const Status = LiteralUnion(stockItemStatuses)
const Threshold = BodyInteger({ minimum: 0, maximum: 1_000_000 })

const Item = Type.Object({
  productId: Type.String(),
  onHand: BodyInteger(),
  reserved: BodyInteger(),
  available: BodyInteger(),
  lowStockThreshold: BodyInteger(),
  status: Status,
  updatedAt: Type.String({ format: 'date-time' }),
})
const ItemDetail = Type.Composite([
  Item,
  Type.Object({
    reservations: Type.Array(
      Type.Object({
        orderId: Type.String(),
        quantity: BodyInteger(),
        reservedAt: Type.String({ format: 'date-time' }),
      }),
    ),
  }),
])

export interface AppDeps {
  config: Static<typeof InventoryConfig>
  log: Logger
  stock: Stock
  verifier: TokenVerifier
  ready: () => boolean
}

export function buildApp({ config, log, stock, verifier, ready }: AppDeps) {
  const detail = (productId: string) => {
    const item = found(stock.item(productId), NO_ITEM)
    return { ...view(item), reservations: stock.openReservations(productId) }
  }

  return createHttpApp({
    service: 'inventory',
    log,
    ready,
    ...httpSettings(config),
    title: 'Mart inventory service',
    description:
      'Stock per product and the reservations orders hold. Stock items come from product.created; reservations from order events. Admin only.',
  })
    .use(authGuards(verifier))
    .get('/api/inventory', ({ query }) => mapPage(stock.list(query), view), {
      requireAdmin: true,
      query: Type.Object({
        ...stockPages.query,
        status: Type.Optional(Status),
      }),
      response: { 200: PageAnswer(Item) },
      detail: { tags: ['admin'], summary: 'List stock items by product id (keyset pagination)' },
    })
    .get('/api/inventory/:productId', ({ params }) => detail(params.productId), {
      requireAdmin: true,
      params: Type.Object({ productId: ProductId }),
      response: { 200: ItemDetail },
      detail: { tags: ['admin'], summary: 'One stock item with the reservations orders hold on it' },
    })
    .post(
      '/api/inventory/:productId/adjustments',
      ({ params, body, trace }) => {
        // TypeBox's integer has no "not zero"; a zero delta would be an adjustment that adjusts nothing.
        if (body.delta === 0) throw validationProblem([{ path: '/body/delta', message: 'must not be 0' }])
        stock.adjust(params.productId, body.delta, body.reason, trace)
        return detail(params.productId)
      },
      {
        requireAdmin: true,
        params: Type.Object({ productId: ProductId }),
        body: Type.Object({
          delta: BodyInteger({
            minimum: -1_000_000,
            maximum: 1_000_000,
            description: 'units added (restock) or removed (write-off); never 0',
          }),
          reason: Type.String({ minLength: 1, maxLength: 200 }),
        }),
        response: { 200: ItemDetail, ...problems(409) },
        detail: {
          tags: ['admin'],
          summary: 'Restock or write off; 409 if on hand would drop below what orders hold',
        },
      },
    )
    .patch(
      '/api/inventory/:productId',
      ({ params, body, trace }) => {
        stock.setThreshold(params.productId, body.lowStockThreshold, trace)
        return detail(params.productId)
      },
      {
        requireAdmin: true,
        params: Type.Object({ productId: ProductId }),
        body: Type.Object({ lowStockThreshold: Threshold }),
        response: { 200: ItemDetail },
        detail: { tags: ['admin'], summary: 'Change the low-stock threshold' },
      },
    )
}
