// Valid event payloads for tests and benchmarks: "some product", "some order", "its payment".
import type { EventData } from './events/catalog.ts'

/** A product.created payload with `initialStock`. */
export const sampleProduct = (id: string, initialStock = 1): EventData<'product.created'> => ({
  id,
  name: `Product ${id}`,
  description: '',
  price: { amount: 1999, currency: 'EUR' },
  sku: null,
  imageUrl: null,
  active: true,
  initialStock,
})

const UNIT_PRICE = 1000
const USER_ID = 'user-1'

/** An order.placed payload for `lines` ([productId, quantity] pairs), each unit at 10.00 EUR. */
export const sampleOrder = (orderId: string, lines: [string, number][]): EventData<'order.placed'> => ({
  orderId,
  userId: USER_ID,
  lines: lines.map(([productId, quantity]) => ({
    productId,
    quantity,
    unitPrice: { amount: UNIT_PRICE, currency: 'EUR' },
  })),
  total: { amount: UNIT_PRICE * lines.reduce((n, [, q]) => n + q, 0), currency: 'EUR' },
})

/** What every order event names: the order and its user (sampleOrder's). */
export const sampleOrderRef = (orderId: string) => ({ orderId, userId: USER_ID })

/** A payment.succeeded payload for the order. */
export const samplePayment = (orderId: string): EventData<'payment.succeeded'> => ({
  paymentId: `pay-${orderId}`,
  ...sampleOrderRef(orderId),
  method: 'stripe',
  amount: { amount: UNIT_PRICE, currency: 'EUR' },
})

/** A stock.adjusted payload about `productId` (10 on hand, none reserved), with `data` over it. */
export const sampleStock = (
  productId: string,
  data: Partial<EventData<'stock.adjusted'>> = {},
): EventData<'stock.adjusted'> => ({
  productId,
  onHand: 10,
  reserved: 0,
  available: 10,
  lowStockThreshold: 5,
  status: 'in_stock',
  reason: 'test',
  ...data,
})
