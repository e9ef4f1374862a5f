// The inventory service in the shared harness, with what only it needs: its stock and holds read
// straight from its database, and the payloads product, order and payment send it.
import type { Bus } from '@mart/shared'
import { startHarness } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export {
  sampleCancellation as cancellation,
  sampleOrder as placed,
  sampleOrderRef as ref,
  samplePayment as paid,
  sampleProduct as product,
} from '@mart/shared/testing'

export async function startInventory(opts: { bus?: Bus; env?: Record<string, string>; dir?: string } = {}) {
  const h = await startHarness(definition, opts)
  const sqlite = h.svc.store.sqlite

  const item = (productId: string) =>
    sqlite
      .prepare(
        'SELECT on_hand AS onHand, reserved, low_stock_threshold AS threshold, discontinued FROM stock_items WHERE product_id = ?',
      )
      .get(productId) as
      | { onHand: number; reserved: number; threshold: number; discontinued: number }
      | undefined

  const reservationsOf = (orderId: string) =>
    sqlite
      .prepare(
        'SELECT product_id AS productId, quantity FROM reservations WHERE order_id = ? ORDER BY product_id',
      )
      .all(orderId) as { productId: string; quantity: number }[]

  return { ...h, item, reservationsOf }
}

export type InventoryHarness = Awaited<ReturnType<typeof startInventory>>
