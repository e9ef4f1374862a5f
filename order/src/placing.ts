// Placing an order: priced from the catalogue read model (never from the body), its lines merged
// per product, its total summed exactly, stored `pending` with order.placed and its expiry job in
// one transaction, and answered once per Idempotency-Key.
import {
  BodyInteger,
  claimIdempotencyKey,
  type FieldError,
  type IdempotentAnswer,
  keepIdempotentAnswer,
  MultiLineText,
  onceFor,
  type Principal,
  requestContext,
  requestHash,
  SingleLineText,
  type Store,
  type TraceContext,
  tx,
  validationProblem,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { eq, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { orderLines, orders, products } from './db/schema.ts'
import { placedData } from './order-events.ts'

import { EXPIRY_JOB, type OrderSaga, type T } from './saga.ts'
import { type Db, type LineRow, type OrderRow, type OrderView, viewOf } from './view.ts'

const MAX_QUANTITY = 1_000_000
/** Order numbers start here: MRT-10001 is the first, so every number has at least five digits. */
const FIRST_NUMBER = 10_001

const Line = Type.Object(
  {
    productId: Type.String({ minLength: 1, maxLength: 64 }),
    quantity: BodyInteger({ minimum: 1, maximum: MAX_QUANTITY }),
  },
  // A price, unitPrice or name in a line is refused: prices come from the catalogue.
  { additionalProperties: false },
)

const text = (maxLength: number) => SingleLineText({ minLength: 1, maxLength })
export const NewShippingAddress = Type.Object(
  {
    name: text(200),
    line1: text(200),
    line2: Type.Optional(text(200)),
    city: text(100),
    postalCode: Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9][A-Za-z0-9 -]*$' }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 code' }),
    phone: Type.Optional(
      Type.String({ pattern: '^\\+?[0-9][0-9 ()-]{2,30}$', description: 'digits, spaces, ( ) -' }),
    ),
  },
  { additionalProperties: false },
)

export const PlaceOrder = Type.Object(
  {
    lines: Type.Array(Line, { minItems: 1, maxItems: 100 }),
    shippingAddress: Type.Optional(NewShippingAddress),
    note: Type.Optional(MultiLineText({ maxLength: 1000 })),
  },
  { additionalProperties: false },
)
export type PlaceOrder = Static<typeof PlaceOrder>

// ISO 3166-1 alpha-2 codes that name a region (the pattern only keeps the shape).
const regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' })
const isCountry = (code: string) => code !== 'ZZ' && regions.of(code) !== undefined

/** What POST /api/orders answers: the order, or the original answer again for a repeated key. */
export type Placed = { replayed: false; view: OrderView } | { replayed: true; answer: IdempotentAnswer }

const p = sql.placeholder

/** Prepared once: placing is the hot path of the service. */
const statements = onceFor((db: Db) => ({
  price: db
    .select()
    .from(products)
    .where(eq(products.id, p('id')))
    .prepare(),
  nextNumber: db
    .select({ next: sql<number>`coalesce(max(${orders.number}) + 1, ${FIRST_NUMBER})` })
    .from(orders)
    .prepare(),
  order: db
    .insert(orders)
    .values({
      id: p('id'),
      number: p('number'),
      userId: p('userId'),
      status: 'pending',
      payment: 'none',
      currency: p('currency'),
      totalAmount: p('totalAmount'),
      shippingAddress: p('shippingAddress'),
      note: p('note'),
      expiresAt: p('expiresAt'),
      outcome: null,
      version: 1,
      createdAt: p('now'),
      updatedAt: p('now'),
    })
    .returning()
    .prepare(),
  line: db
    .insert(orderLines)
    .values({
      orderId: p('orderId'),
      position: p('position'),
      productId: p('productId'),
      name: p('name'),
      quantity: p('quantity'),
      unitAmount: p('unitAmount'),
    })
    .prepare(),
}))

export class Placing {
  constructor(
    private readonly store: Store<typeof schema>,
    private readonly saga: OrderSaga,
    private readonly ttlMs: number,
  ) {}

  place(user: Principal, body: PlaceOrder, key: string | undefined, trace?: TraceContext): Placed {
    const country = body.shippingAddress?.country
    if (country !== undefined && !isCountry(country)) {
      throw validationProblem([
        { path: '/body/shippingAddress/country', message: 'is not an ISO 3166-1 country code' },
      ])
    }
    const hash = key === undefined ? '' : requestHash(body)
    return tx(
      this.store,
      (t) => {
        const now = Date.now()
        const id = Bun.randomUUIDv7()
        if (key !== undefined) {
          const earlier = claimIdempotencyKey(this.store, { userId: user.id, key, hash, resourceId: id, now })
          if (earlier) return { replayed: true, answer: earlier }
        }
        const view = this.create(t, id, user.id, body, now)
        if (key !== undefined) {
          keepIdempotentAnswer(this.store, user.id, key, { status: 202, body: JSON.stringify(view) })
        }
        return { replayed: false, view }
      },
      requestContext(trace),
    )
  }

  private create(t: T, id: string, userId: string, body: PlaceOrder, now: number): OrderView {
    const lines = this.price(id, body.lines)
    const currency = lines[0]?.currency as string
    let total = 0n
    for (const l of lines) total += BigInt(l.unitAmount) * BigInt(l.quantity)
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw validationProblem([{ path: '/body/lines', message: 'the order total is too large' }])
    }
    const st = statements(t.db)
    const { next } = st.nextNumber.get() as { next: number }
    const expiresAt = now + this.ttlMs
    const order = st.order.get({
      id,
      number: next,
      userId,
      currency,
      totalAmount: Number(total),
      shippingAddress: body.shippingAddress ? JSON.stringify(body.shippingAddress) : null,
      note: body.note ?? null,
      expiresAt,
      now,
    }) as OrderRow
    const rows: LineRow[] = lines.map(({ currency: _, ...l }) => l)
    for (const row of rows) st.line.run(row)
    const placed = t.publish('order.placed', placedData(order, rows), { subject: id })
    t.schedule(EXPIRY_JOB, { key: id, at: expiresAt })
    const view = viewOf(order, rows)
    this.saga.record(t, order, view, {
      input: 'placed',
      type: 'order.placed',
      source: 'order',
      actor: { id: userId, role: 'user' },
      from: null,
      emitted: [{ type: placed.type, id: placed.id }],
      at: now,
    })
    return view
  }

  /**
   * The lines priced from the catalogue, merged per product in the order they first appear; a 422
   * naming every line that cannot be ordered, or whose currency is not the order's.
   */
  private price(orderId: string, requested: PlaceOrder['lines']): (LineRow & { currency: string })[] {
    const errors: FieldError[] = []
    const merged = new Map<string, LineRow & { currency: string }>()
    let currency: string | undefined
    const { price } = statements(this.store.db)
    requested.forEach((line, i) => {
      const product = price.get({ id: line.productId })
      if (!product?.orderable) {
        errors.push({ path: `/body/lines/${i}/productId`, message: 'is not a product that can be ordered' })
        return
      }
      currency ??= product.currency
      if (product.currency !== currency) {
        errors.push({
          path: `/body/lines/${i}/productId`,
          message: `is priced in ${product.currency}, and an order is paid in one currency (${currency})`,
        })
        return
      }
      const same = merged.get(line.productId)
      if (same) {
        same.quantity += line.quantity
        if (same.quantity > MAX_QUANTITY) {
          errors.push({
            path: `/body/lines/${i}/quantity`,
            message: `brings this product past ${MAX_QUANTITY} units`,
          })
        }
        return
      }
      merged.set(line.productId, {
        orderId,
        position: merged.size + 1,
        productId: product.id,
        name: product.name,
        quantity: line.quantity,
        unitAmount: product.priceAmount,
        currency: product.currency,
      })
    })
    if (errors.length > 0) throw validationProblem(errors, 'some lines cannot be ordered')
    return [...merged.values()]
  }
}
