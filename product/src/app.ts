import {
  authGuards,
  BodyInteger,
  createHttpApp,
  found,
  HttpUrl,
  httpSettings,
  LiteralUnion,
  type Logger,
  MultiLineText,
  NoContent,
  NotModified,
  PageAnswer,
  problems,
  publicJson,
  QueryInteger,
  SingleLineText,
  stockStatuses,
  type TokenVerifier,
  validationProblem,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { ProductConfig } from './config.ts'
import type { PageCache } from './page-cache.ts'
import { catalogPages, type ListOptions, type Money, type Products, sorts, view } from './products.ts'

// The pattern keeps the shape; the list below keeps out codes ISO 4217 does not have ("ABC").
const currencies = new Set(Intl.supportedValuesOf('currency'))
/** The largest amount in minor units, in a price or a price filter: sums stay exact in JS. */
const MAX_AMOUNT = 1_000_000_000_000
const Price = Type.Object(
  {
    // Integer minor units: 1.5, -1 or "1999" is a 422, never rounded or coerced.
    amount: BodyInteger({ minimum: 0, maximum: MAX_AMOUNT, description: '1999 is 19.99' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' }),
  },
  { additionalProperties: false },
)
// Shown to every shopper: visible text only (no zero-width or bidi tricks), a link only to a web host.
const Name = SingleLineText({
  minLength: 1,
  maxLength: 200,
  description: 'stored trimmed; one line of text, no control or invisible characters',
})
const Description = MultiLineText({ maxLength: 10_000 })
const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$' })
const ImageUrl = HttpUrl({ maxLength: 2048 })
const Id = Type.String({ format: 'uuid' })

const Product = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: Type.Object({ amount: BodyInteger(), currency: Type.String() }),
  sku: Type.Union([Type.String(), Type.Null()]),
  imageUrl: Type.Union([Type.String(), Type.Null()]),
  stock: Type.Object({
    status: LiteralUnion(stockStatuses),
    available: BodyInteger(),
  }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
})

const CataloguePage = PageAnswer(Product)
// A page kept in the cache is checked once, when it is read, as Elysia checks what a handler returns.
const cataloguePage = TypeCompiler.Compile(CataloguePage)

/** The cache's key of a list request: every option that changes the page, in a fixed order. */
const pageKey = (o: ListOptions) =>
  // Validated values: numbers, booleans, a sort, a currency code, and two strings that are quoted.
  `${o.sort} ${o.limit} ${o.minPrice} ${o.maxPrice} ${o.currency} ${o.inStock} ${JSON.stringify(o.cursor)} ${JSON.stringify(o.q)}`

export interface AppDeps {
  config: Static<typeof ProductConfig>
  log: Logger
  products: Products
  /** The finished pages of anonymous reads (see page-cache.ts). */
  pages: PageCache
  verifier: TokenVerifier
  ready: () => boolean
}

/** A currency that matches the pattern but is no ISO 4217 code is a 422 like any other. */
function checkCurrency(price: Money | undefined) {
  if (price && !currencies.has(price.currency)) {
    throw validationProblem([{ path: '/body/price/currency', message: 'is not an ISO 4217 currency code' }])
  }
}

export function buildApp({ config, log, products, pages, verifier, ready }: AppDeps) {
  /** The page as JSON, from the cache; read and checked against the response schema on a miss. */
  const cached = (options: ListOptions) =>
    pages.get(pageKey(options), () => {
      const page = products.list(options)
      if (!cataloguePage.Check(page)) throw new Error('a catalogue page does not match its schema')
      return page
    })

  return createHttpApp({
    service: 'product',
    log,
    ready,
    ...httpSettings(config),
    title: 'Mart product service',
    description: 'The catalogue: anyone browses and searches it; admins add, change and remove products.',
  })
    .use(authGuards(verifier))
    .get(
      '/api/products',
      ({ query, request, set }) => {
        if (query.minPrice !== undefined && query.maxPrice !== undefined && query.minPrice > query.maxPrice) {
          throw validationProblem([{ path: '/query/maxPrice', message: 'is below minPrice' }])
        }
        const options = { ...query, sort: query.sort ?? 'newest' }
        // Only anonymous reads share the cache: the page is the same for everyone today, but a view
        // that came to depend on who asks must never be kept and shown to someone else.
        if (request.headers.has('authorization')) return products.list(options)
        const { body, etag } = cached(options)
        return publicJson(request, set, body, etag)
      },
      {
        query: Type.Object({
          ...catalogPages.query,
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          minPrice: Type.Optional(
            QueryInteger({ minimum: 0, maximum: MAX_AMOUNT, description: 'minor units' }),
          ),
          maxPrice: Type.Optional(
            QueryInteger({ minimum: 0, maximum: MAX_AMOUNT, description: 'minor units' }),
          ),
          currency: Type.Optional(
            Type.String({
              pattern: '^[A-Z]{3}$',
              description: 'only prices in this ISO 4217 currency (amounts compare only within one)',
            }),
          ),
          inStock: Type.Optional(Type.Boolean({ description: 'true: available > 0; false: sold out' })),
          sort: Type.Optional(LiteralUnion(sorts)),
        }),
        response: { 200: CataloguePage, ...NotModified },
        detail: {
          tags: ['catalogue'],
          summary: 'Browse and search the catalogue (keyset pagination; q searches name and description)',
        },
      },
    )
    .get('/api/products/:id', ({ params }) => view(found(products.byId(params.id), 'no such product')), {
      params: Type.Object({ id: Id }),
      response: { 200: Product },
      detail: { tags: ['catalogue'], summary: 'One product' },
    })
    .post(
      '/api/products',
      ({ body, trace, set }) => {
        checkCurrency(body.price)
        set.status = 201
        return products.create(body, trace)
      },
      {
        requireAdmin: true,
        body: Type.Object({
          name: Name,
          description: Type.Optional(Description),
          price: Price,
          sku: Type.Optional(Type.Union([Sku, Type.Null()])),
          imageUrl: Type.Optional(Type.Union([ImageUrl, Type.Null()])),
          initialStock: Type.Optional(BodyInteger({ minimum: 0, maximum: 1_000_000_000 })),
        }),
        response: { 201: Product, ...problems(409) },
        detail: { tags: ['admin'], summary: 'Add a product (emits product.created with initialStock)' },
      },
    )
    .patch(
      '/api/products/:id',
      ({ params, body, trace }) => {
        checkCurrency(body.price)
        return products.update(params.id, body, trace)
      },
      {
        requireAdmin: true,
        params: Type.Object({ id: Id }),
        body: Type.Object({
          name: Type.Optional(Name),
          description: Type.Optional(Description),
          price: Type.Optional(Price),
          sku: Type.Optional(Type.Union([Sku, Type.Null()])),
          imageUrl: Type.Optional(Type.Union([ImageUrl, Type.Null()])),
        }),
        response: { 200: Product, ...problems(409) },
        detail: { tags: ['admin'], summary: 'Change a product (null clears sku or imageUrl)' },
      },
    )
    .delete(
      '/api/products/:id',
      ({ params, trace, set }) => {
        products.delete(params.id, trace)
        set.status = 204
      },
      {
        requireAdmin: true,
        params: Type.Object({ id: Id }),
        response: NoContent,
        detail: { tags: ['admin'], summary: 'Remove a product from the catalogue (soft delete)' },
      },
    )
}
