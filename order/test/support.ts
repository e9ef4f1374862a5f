// The order service in the shared harness, with what only its tests need: a catalogue to order
// from, customers and an admin with tokens, and the events inventory and payment answer with.
import type { Bus, EventData } from '@mart/shared'
import { sampleProduct, startHarness } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export async function startOrder(opts: { bus?: Bus; env?: Record<string, string>; dir?: string } = {}) {
  const h = await startHarness(definition, opts)

  /** A product the order service can price: `amount` minor units in `currency`. */
  const product = (
    id: string,
    amount = 1999,
    currency = 'EUR',
    extra: Partial<EventData<'product.created'>> = {},
  ) => h.apply(['product.created', { ...sampleProduct(id), price: { amount, currency }, ...extra }, id])

  /** A signed-in person: their id and token. */
  const person = async (role: 'user' | 'admin' = 'user') => {
    const id = crypto.randomUUID()
    return { id, role, token: await h.token(role, { sub: id }) }
  }

  /** POST /api/orders as `who`, with lines as [productId, quantity] pairs or a body of the test's own. */
  const place = (who: { token: string }, body: unknown, headers: Record<string, string> = {}) =>
    h.call('POST', '/api/orders', { token: who.token, body, headers })

  const lines = (...pairs: [string, number][]) => ({
    lines: pairs.map(([productId, quantity]) => ({ productId, quantity })),
  })

  /** The order's status and payment, read from its database. */
  const stateOf = (orderId: string) =>
    h.svc.store.sqlite.prepare('SELECT status, payment, version FROM orders WHERE id = ?').get(orderId) as
      | { status: string; payment: string; version: number }
      | undefined

  const count = (table: string) =>
    (h.svc.store.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

  return { ...h, product, person, place, lines, stateOf, count }
}

export type OrderHarness = Awaited<ReturnType<typeof startOrder>>

/** What inventory says when it holds every line of the order. */
export const reserved = (
  orderId: string,
  pairs: [string, number][] = [['p1', 1]],
): EventData<'stock.reserved'> => ({
  orderId,
  lines: pairs.map(([productId, quantity]) => ({ productId, quantity })),
})

/** Payment's events about the order, as payment would send them. */
export const payment = (orderId: string, userId: string, amount = 1999) => ({
  paymentId: `pay-${orderId}`,
  orderId,
  userId,
  amount: { amount, currency: 'EUR' },
})
