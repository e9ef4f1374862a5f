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
  ...sampleOrderRef(orderId),
  lines: lines.map(([productId, quantity]) => ({
    productId,
    name: `Product ${productId}`,
    quantity,
    unitPrice: { amount: UNIT_PRICE, currency: 'EUR' },
  })),
  total: { amount: UNIT_PRICE * lines.reduce((n, [, q]) => n + q, 0), currency: 'EUR' },
})

/** What every order event names: the order, its user (sampleOrder's) and a number made from the id. */
export function sampleOrderRef(orderId: string) {
  const digits = [...orderId].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 1e9, 7)
  return { orderId, userId: USER_ID, number: `MRT-${String(digits).padStart(9, '0')}` }
}

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

/** An order.cancelled payload: the customer cancelled before payment, nothing to refund. */
export const sampleCancellation = (
  orderId: string,
  reason = 'changed my mind',
): EventData<'order.cancelled'> => ({
  ...sampleOrderRef(orderId),
  by: 'user',
  actorId: USER_ID,
  reason,
  refundDue: false,
})
