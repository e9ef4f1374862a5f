import { serviceConfig } from '@mart/shared'
import { Type } from '@sinclair/typebox'

export const InventoryConfig = serviceConfig(8002, {
  /** The low-stock threshold a new stock item starts with; each item's can be changed by an admin. */
  DEFAULT_LOW_STOCK_THRESHOLD: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 5 }),
})
