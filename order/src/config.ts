import { serviceConfig } from '@mart/shared'
import { Type } from '@sinclair/typebox'

export const OrderConfig = serviceConfig(8004, {
  /** How long an order may wait for payment (pending or unpaid) before it expires and its stock is released. */
  ORDER_RESERVATION_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 30 * 86_400, default: 1800 }),
})
