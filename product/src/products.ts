import {
  conflict,
  type EventData,
  found,
  invalidCursor,
  keysetPages,
  mapPage,
  type Page,
  type PageRequest,
  requestContext,
  type StockStatus,
  type Store,
  type TraceContext,
  type Tx,
  tx,
} from '@mart/shared'
import { Type } from '@sinclair/typebox'
import { and, asc, desc, eq, getTableColumns, gte, isNull, lte, type SQL, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { products, stock } from './db/schema.ts'
import type { PageCache } from './page-cache.ts'

type Db = Store<typeof schema>
type ProductRow = typeof products.$inferSelect
/** A product with its row of the stock read model, when inventory has spoken about it. */
type ListedRow = ProductRow & {
  stockStatus: StockStatus | null
  stockAvailable: number | null
}

export const sorts = ['newest', 'price_asc', 'price_desc'] as const
export type Sort = (typeof sorts)[number]

export interface Money {
  amount: number
  currency: string
}

export interface ProductView {
  id: string
  name: string
  description: string
  price: Money
  sku: string | null
  imageUrl: string | null
  stock: { status: StockStatus; available: number }
  createdAt: string
  updatedAt: string
}

/** The product as events carry it (the catalogue's ProductSnapshot). */
const snapshot = (p: ProductRow): Omit<EventData<'product.updated'>, 'changed'> => ({
  id: p.id,
  name: p.name,
  description: p.description,
  price: { amount: p.priceAmount, currency: p.currency },
  sku: p.sku,
  imageUrl: p.imageUrl,
  active: p.deletedAt === null,
})

export const view = (p: ListedRow): ProductView => {
  const { active: _, ...shown } = snapshot(p)
  return {
    ...shown,
    stock:
      p.stockStatus !== null && p.stockAvailable !== null
        ? { status: p.stockStatus, available: p.stockAvailable }
        : // Until inventory's first stock.adjusted, what product.created announced. The low-stock
          // threshold is inventory's, so this guess only knows "some" and "none".
          { status: p.initialStock > 0 ? 'in_stock' : 'out_of_stock', available: p.initialStock },
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  }
}

export interface NewProduct {
  name: string
  description?: string
  price: Money
  sku?: string | null
  imageUrl?: string | null
  initialStock?: number
}

export type ProductPatch = Partial<Pick<NewProduct, 'name' | 'description' | 'price' | 'sku' | 'imageUrl'>>

export interface ListOptions extends PageRequest {
  sort: Sort
  q?: string
  minPrice?: number
  maxPrice?: number
  /** Only prices in this currency: amounts are only comparable within one. */
  currency?: string
  inStock?: boolean
}

/** The catalogue; every change emits its event on product.events in the same commit. */
export class Products {
  private readonly listQueries = new Map<string, ReturnType<Products['buildListQuery']>>()
  private readonly byIdQuery

  /** `pages` is told of every change, in its transaction. */
  constructor(
    private readonly store: Db,
    private readonly pages: PageCache,
  ) {
    this.byIdQuery = this.select()
      .where(and(eq(products.id, sql.placeholder('id')), isNull(products.deletedAt)))
      .prepare()
  }

  /** The columns a product is read with: its own and its stock read model's. */
  private select() {
    return this.store.db
      .select({
        ...getTableColumns(products),
        stockStatus: stock.status,
        stockAvailable: stock.available,
      })
      .from(products)
      .leftJoin(stock, eq(stock.productId, products.id))
  }

  /** A live product; deleted ones are gone for everyone. */
  byId(id: string): ListedRow | undefined {
    return this.byIdQuery.get({ id })
  }

  private live(t: Tx<typeof schema>, id: string): ProductRow {
    const row = t.db
      .select()
      .from(products)
      .where(and(eq(products.id, id), isNull(products.deletedAt)))
      .get()
    return found(row, 'no such product')
  }

  private skuTaken(t: Tx<typeof schema>, sku: string | null, except?: string): void {
    if (sku === null) return
    const clash = t.db
      .select({ id: products.id })
      .from(products)
      .where(
        and(
          sql`lower(${products.sku}) = lower(${sku})`,
          isNull(products.deletedAt),
          except ? sql`${products.id} <> ${except}` : undefined,
        ),
      )
      .get()
    if (clash) throw conflict('that sku is taken')
  }

  /** Adds a product and emits product.created with the stock it starts with. */
  create(input: NewProduct, trace?: TraceContext): ProductView {
    const now = Date.now()
    const id = Bun.randomUUIDv7()
    return tx(
      this.store,
      (t) => {
        this.skuTaken(t, input.sku ?? null)
        const row = t.db
          .insert(products)
          .values({
            id,
            name: input.name.trim(),
            description: input.description ?? '',
            priceAmount: input.price.amount,
            currency: input.price.currency,
            sku: input.sku ?? null,
            imageUrl: input.imageUrl ?? null,
            initialStock: input.initialStock ?? 0,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          })
          .returning()
          .get()
        t.publish('product.created', { ...snapshot(row), initialStock: row.initialStock }, { subject: id })
        this.pages.forgetOnCommit(t)
        return view({ ...row, stockStatus: null, stockAvailable: null })
      },
      requestContext(trace),
    )
  }

  /** Changes what is given; emits product.updated naming the fields that really changed. */
  update(id: string, patch: ProductPatch, trace?: TraceContext): ProductView {
    tx(
      this.store,
      (t) => {
        const before = this.live(t, id)
        const after: ProductRow = {
          ...before,
          name: patch.name?.trim() ?? before.name,
          description: patch.description ?? before.description,
          priceAmount: patch.price?.amount ?? before.priceAmount,
          currency: patch.price?.currency ?? before.currency,
          sku: patch.sku === undefined ? before.sku : patch.sku,
          imageUrl: patch.imageUrl === undefined ? before.imageUrl : patch.imageUrl,
        }
        const changed = [
          after.name !== before.name && 'name',
          after.description !== before.description && 'description',
          (after.priceAmount !== before.priceAmount || after.currency !== before.currency) && 'price',
          after.sku !== before.sku && 'sku',
          after.imageUrl !== before.imageUrl && 'imageUrl',
        ].filter((c): c is string => c !== false)
        if (changed.length === 0) return
        if (changed.includes('sku')) this.skuTaken(t, after.sku, id)
        after.updatedAt = Date.now()
        t.db.update(products).set(after).where(eq(products.seq, before.seq)).run()
        t.publish('product.updated', { ...snapshot(after), changed }, { subject: id })
        this.pages.forgetOnCommit(t)
      },
      requestContext(trace),
    )
    return view(this.byId(id) as ListedRow)
  }

  /** Soft delete: hidden from the catalogue and from GET; the row stays. Emits product.deleted. */
  delete(id: string, trace?: TraceContext): void {
    tx(
      this.store,
      (t) => {
        const row = this.live(t, id)
        const now = Date.now()
        t.db.update(products).set({ deletedAt: now, updatedAt: now }).where(eq(products.seq, row.seq)).run()
        t.publish('product.deleted', { id }, { subject: id })
        this.pages.forgetOnCommit(t)
      },
      requestContext(trace),
    )
  }

  /**
   * One page of the catalogue in `sort` order, keyset-paginated: the cursor holds the last item's
   * sort key and id, so pages neither skip nor repeat while products come and go.
   */
  list(opts: ListOptions): Page<ProductView> {
    const { limit, after } = readPage(opts)
    const match = opts.q === undefined ? undefined : ftsQuery(opts.q)
    // Nothing searchable in q (only punctuation): nothing matches.
    if (match === null) return { items: [], nextCursor: null }
    const rows = this.listQuery(opts, after !== undefined).all({
      limit: limit + 1,
      minPrice: opts.minPrice,
      maxPrice: opts.maxPrice,
      currency: opts.currency,
      match,
      afterId: after?.id,
      afterPrice: after?.price,
    })
    const page = catalogPages.page(rows, limit, (r) =>
      opts.sort === 'newest' ? ['newest', r.id] : [opts.sort, r.priceAmount, r.id],
    )
    return mapPage(page, view)
  }

  /**
   * The list query for one combination of filters, sort and cursor, prepared once and kept: building
   * and compiling it per request cost about three times what running it does.
   */
  private listQuery(opts: ListOptions, paged: boolean) {
    const shape = [
      opts.sort,
      paged,
      opts.minPrice !== undefined,
      opts.maxPrice !== undefined,
      opts.currency !== undefined,
      opts.inStock ?? 'any',
      opts.q !== undefined,
    ].join()
    let query = this.listQueries.get(shape)
    if (!query) {
      query = this.buildListQuery(opts, paged)
      this.listQueries.set(shape, query)
    }
    return query
  }

  private buildListQuery(opts: ListOptions, paged: boolean) {
    const p = (name: string) => sql.placeholder(name)
    const conditions: (SQL | undefined)[] = [
      isNull(products.deletedAt),
      opts.minPrice !== undefined ? gte(products.priceAmount, p('minPrice')) : undefined,
      opts.maxPrice !== undefined ? lte(products.priceAmount, p('maxPrice')) : undefined,
      opts.currency !== undefined ? eq(products.currency, p('currency')) : undefined,
    ]
    if (opts.inStock !== undefined) {
      const available = sql`coalesce(${stock.available}, ${products.initialStock})`
      conditions.push(opts.inStock ? sql`${available} > 0` : sql`${available} = 0`)
    }
    if (opts.q !== undefined) {
      conditions.push(
        sql`${products.seq} IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ${p('match')})`,
      )
    }
    if (paged) {
      conditions.push(
        opts.sort === 'newest'
          ? sql`${products.id} < ${p('afterId')}`
          : opts.sort === 'price_asc'
            ? sql`(${products.priceAmount}, ${products.id}) > (${p('afterPrice')}, ${p('afterId')})`
            : sql`(${products.priceAmount}, ${products.id}) < (${p('afterPrice')}, ${p('afterId')})`,
      )
    }
    const order =
      opts.sort === 'newest'
        ? [desc(products.id)]
        : opts.sort === 'price_asc'
          ? [asc(products.priceAmount), asc(products.id)]
          : [desc(products.priceAmount), desc(products.id)]
    return this.select()
      .where(and(...conditions))
      .orderBy(...order)
      .limit(p('limit'))
      .prepare()
  }
}

/**
 * Turns free text into an FTS5 query that cannot be a syntax error: only the words are kept (what
 * the unicode61 tokenizer would index anyway), each quoted as a string, so `"`, `AND`, `*` or `(`
 * in q are text, never operators. Every word must match, as a prefix (search as you type).
 */
export function ftsQuery(q: string): string | null {
  const words = (q.match(/[\p{L}\p{N}\p{M}]+/gu) ?? []).slice(0, 16)
  return words.length ? words.map((w) => `"${w}"*`).join(' ') : null
}

const Uuid = Type.String({ format: 'uuid' })
/**
 * The catalogue in one of its sorts, the cursor being the last item's sort key and id. The sort
 * travels inside the cursor: a cursor from one order used with another would skip rows.
 */
export const catalogPages = keysetPages(
  Type.Union([
    Type.Tuple([Type.Literal('newest'), Uuid]),
    Type.Tuple([
      Type.Union([Type.Literal('price_asc'), Type.Literal('price_desc')]),
      Type.Integer({ minimum: 0 }),
      Uuid,
    ]),
  ]),
  { cursorMaxLength: 500 },
)

/** The limit, and the id (and price) to start after, of a page of the catalogue in `opts.sort`. */
function readPage(opts: ListOptions): { limit: number; after?: { id: string; price: number } } {
  const { limit, after } = catalogPages.read(opts)
  if (!after) return { limit }
  if (after[0] !== opts.sort) throw invalidCursor('is not a cursor from this list and sort')
  return {
    limit,
    after: after[0] === 'newest' ? { id: after[1], price: 0 } : { id: after[2], price: after[1] },
  }
}
