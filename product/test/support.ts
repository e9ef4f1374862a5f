// The product service in the shared harness, with what only it needs: an admin who creates products,
// and inventory's stock.adjusted sent in.
import type { Event, EventData } from '@mart/shared'
import { type HttpCall, sampleStock, startHarness } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export type Call = HttpCall

export type ProductEvent = Event<'product.created' | 'product.updated' | 'product.deleted'>

export async function startProduct() {
  const h = await startHarness(definition)
  const admin = await h.token('admin', { username: 'admin' })

  /** Creates a product as the admin; answers the created product. */
  async function create(fields: Record<string, unknown> = {}) {
    const r = await h.call('POST', '/api/products', {
      token: admin,
      body: { name: 'Widget', description: 'A widget', price: { amount: 1999, currency: 'EUR' }, ...fields },
    })
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`)
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
    return r.body as Record<string, any>
  }

  return {
    ...h,
    admin,
    create,
    /** Sends inventory's stock.adjusted about `productId`; answers the event. */
    adjustStock: (productId: string, data: Partial<EventData<'stock.adjusted'>> = {}) =>
      h.send('stock.adjusted', sampleStock(productId, data), productId),
    events: () => h.events() as ProductEvent[],
  }
}

export type ProductHarness = Awaited<ReturnType<typeof startProduct>>
